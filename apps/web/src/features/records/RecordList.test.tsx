import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MemoryRouter } from 'react-router';
import { RecordList, type RecordRow } from './RecordList';
import { SummaryLoader } from './summaryLoader';
import { inProcessSearch } from '../../../test/inProcessSearch';
import { searchDocOf } from '../search/searchDoc';
import type { RecordContent } from './content';

const rows: RecordRow[] = Array.from({ length: 50 }, (_, i) => ({
  id: `rec${i}`,
  version: 1,
  // Row 3 fails verification: the author the server names there must not be shown.
  author: i === 2 ? 'Dr X' : i === 3 ? 'Dr Mallory' : 'you',
}));

const search = inProcessSearch();
afterAll(() => search.close());

/** Odd rows are lab results, even rows notes; every tenth mentions the knee; row 3 is tampered. */
function contentOf(i: number): RecordContent {
  const common = {
    v: 1 as const,
    title: i % 2 ? `Lab ${i}` : `Note ${i}`,
    date: i < 25 ? '2026-11-01' : '2025-03-14',
    body: i % 10 === 0 ? 'Knee swollen after running' : 'All fine',
    attachments: [],
  };
  return i % 2
    ? { ...common, kind: 'lab', values: [{ name: 'CRP', value: String(i), unit: 'mg/L' }] }
    : { ...common, kind: 'note' };
}

function makeLoader() {
  return new SummaryLoader<RecordRow>(async ({ id }) => {
    const i = Number(id.slice(3));
    if (i === 3)
      return {
        status: 'failed',
        failure: { status: 'bad-signature', reason: 'invalid-signature' },
      };
    const content = contentOf(i);
    await search.put([searchDocOf(id, content)]);
    return {
      status: 'verified',
      summary: { title: content.title, kind: content.kind, date: content.date },
      role: 'owner',
      author: { id: i === 2 ? 'dr-x' : 'me', fingerprint: 'f'.repeat(40) },
      signedAt: new Date('2026-11-01T10:00:00Z'),
      teams: [],
    };
  });
}

function renderList(loader = makeLoader()) {
  return render(
    <MemoryRouter>
      <RecordList
        rows={rows}
        loader={loader}
        search={search.search}
        hrefFor={(id) => `/records/${id}`}
        authorFlags={(row) => ({
          keyUnverified: row.id === 'rec2',
          withoutConsent: row.id === 'rec4',
        })}
      />
    </MemoryRouter>,
  );
}

const listedTitles = () =>
  within(screen.getByRole('region', { name: 'Records' }))
    .queryAllByRole('link')
    .map((a) => a.querySelector('span')?.textContent?.trim() ?? '');

async function flush() {
  for (let i = 0; i < 30; i += 1) await act(() => new Promise((r) => setTimeout(r, 0)));
}

// jsdom does no layout; give elements a viewport-sized box so the virtualizer has a screen to fill.
beforeAll(() => {
  Object.defineProperty(HTMLElement.prototype, 'clientHeight', {
    configurable: true,
    get: () => 600,
  });
  Object.defineProperty(HTMLElement.prototype, 'clientWidth', {
    configurable: true,
    get: () => 800,
  });
});

describe('RecordList', () => {
  it('when titles decrypt, then rows show them and only a screenful of rows is in the DOM', async () => {
    renderList();
    const list = screen.getByRole('region', { name: 'Records' });
    // Results reach the list in batches (one render per window), so wait for the title.
    expect(await within(list).findByText('Note 0')).toBeInTheDocument();
    expect(within(list).getAllByRole('link').length).toBeLessThan(rows.length);
  });

  it('when a record was signed with a key the user has not verified, or without her consent, then its row says which', async () => {
    renderList();
    const row = (id: string) => document.querySelector(`[data-record-id="${id}"]`);
    await waitFor(() => expect(row('rec2')).toHaveTextContent('by Dr X, key not verified'));
    expect(row('rec2')).not.toHaveTextContent('consent');
    await waitFor(() => expect(row('rec4')).toHaveTextContent('Written without your consent'));
    expect(row('rec4')).not.toHaveTextContent('not verified');
    expect(row('rec6')).not.toHaveTextContent(/not verified|consent/);
  });

  it('when a record failed verification, then its row is a tamper warning and no title', async () => {
    renderList();
    await waitFor(() =>
      expect(document.querySelector('[data-record-id="rec3"]')).toHaveTextContent(
        'Record failed verification',
      ),
    );
    const row = document.querySelector('[data-record-id="rec3"]');
    expect(row).toHaveTextContent('Tamper warning');
    expect(row).toHaveTextContent('author and date not shown: not verified');
    expect(row).not.toHaveTextContent('Dr Mallory');
  });

  it('when a record is still being checked, then its row shows none of what the server says about it', async () => {
    renderList(new SummaryLoader<RecordRow>(() => new Promise(() => {})));
    await flush();
    const row = document.querySelector('[data-record-id="rec2"]');
    expect(row).toHaveTextContent('Decrypting…');
    expect(row).toHaveTextContent('checking its signature');
    expect(row).not.toHaveTextContent('Dr X');
  });

  it('when searching, then records match by words of their text, kind and date, and the kind filter narrows them', async () => {
    const user = userEvent.setup();
    renderList();
    await flush();
    const box = screen.getByLabelText('Search records');
    await user.type(box, 'knee');
    await waitFor(() =>
      expect(screen.getByText(/^5 of 50 records match “knee”$/)).toBeInTheDocument(),
    );
    expect(listedTitles().sort()).toEqual(['Note 0', 'Note 10', 'Note 20', 'Note 30', 'Note 40']);
    // The date as typed, and as written out in this locale.
    await user.clear(box);
    await user.type(box, '2025-03-14');
    await waitFor(() => expect(screen.getByText(/^25 of 50 records match/)).toBeInTheDocument());
    const march = new Intl.DateTimeFormat(undefined, { month: 'long' }).format(
      new Date(2025, 2, 14),
    );
    await user.clear(box);
    await user.type(box, `${march} 2025 knee`);
    await waitFor(() => expect(screen.getByText(/^2 of 50 records match/)).toBeInTheDocument());
    expect(listedTitles().sort()).toEqual(['Note 30', 'Note 40']);
    // The kind's name, and a lab value; the tampered row 3 is never found.
    await user.clear(box);
    await user.type(box, 'lab result crp');
    await waitFor(() => expect(screen.getByText(/^24 of 50 records match/)).toBeInTheDocument());
    await user.clear(box);
    await user.type(box, 'Lab 3');
    await waitFor(() => expect(screen.queryByText(/searching/)).not.toBeInTheDocument());
    expect(listedTitles()).not.toContain('Lab 3');
    // The kind filter narrows a search.
    await user.clear(box);
    await user.type(box, 'note');
    await user.selectOptions(screen.getByLabelText('Kind'), 'lab');
    await waitFor(() =>
      expect(screen.getByText(/^0 of 50 records match “note”$/)).toBeInTheDocument(),
    );
  });
});
