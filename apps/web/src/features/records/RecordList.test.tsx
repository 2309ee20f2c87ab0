import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MemoryRouter } from 'react-router';
import { RecordList, type RecordRow } from './RecordList';
import { SummaryLoader } from './summaryLoader';

const rows: RecordRow[] = Array.from({ length: 50 }, (_, i) => ({ id: `rec${i}`, version: 1, updatedAt: '2026-11-01T10:00:00Z', author: 'you' }));

function makeLoader() {
  return new SummaryLoader<RecordRow>(async ({ id }) => {
    const i = Number(id.slice(3));
    if (i === 3) return { status: 'tampered', reason: 'signature did not verify' };
    return { status: 'verified', summary: { title: i % 2 ? `Lab ${i}` : `Note ${i}`, kind: i % 2 ? 'lab' : 'note', date: '2026-11-01' } };
  });
}

async function flush() {
  for (let i = 0; i < 30; i += 1) await act(() => new Promise((r) => setTimeout(r, 0)));
}

// jsdom does no layout; give elements a viewport-sized box so the virtualizer has a screen to fill.
beforeAll(() => {
  Object.defineProperty(HTMLElement.prototype, 'clientHeight', { configurable: true, get: () => 600 });
  Object.defineProperty(HTMLElement.prototype, 'clientWidth', { configurable: true, get: () => 800 });
});

describe('RecordList', () => {
  it('when titles decrypt, then rows show them and only a screenful of rows is in the DOM', async () => {
    render(
      <MemoryRouter>
        <RecordList rows={rows} loader={makeLoader()} hrefFor={(id) => `/records/${id}`} />
      </MemoryRouter>,
    );
    const list = screen.getByRole('region', { name: 'Records' });
    // Results reach the list in batches (one render per window), so wait for the title.
    expect(await within(list).findByText('Note 0')).toBeInTheDocument();
    expect(within(list).getAllByRole('link').length).toBeLessThan(rows.length);
  });

  it('when a record failed verification, then its row is a tamper warning and no title', async () => {
    render(
      <MemoryRouter>
        <RecordList rows={rows} loader={makeLoader()} hrefFor={(id) => `/records/${id}`} />
      </MemoryRouter>,
    );
    await waitFor(() => expect(document.querySelector('[data-record-id="rec3"]')).toHaveTextContent('Record failed verification'));
    expect(document.querySelector('[data-record-id="rec3"]')).toHaveTextContent('Tamper warning');
  });

  it('when filtering by kind and text, then only matching decrypted rows remain', async () => {
    const user = userEvent.setup();
    render(
      <MemoryRouter>
        <RecordList rows={rows} loader={makeLoader()} hrefFor={(id) => `/records/${id}`} />
      </MemoryRouter>,
    );
    await flush();
    await user.selectOptions(screen.getByLabelText('Kind'), 'lab');
    await user.type(screen.getByLabelText('Filter by title'), 'lab 1');
    await flush();
    const titles = within(screen.getByRole('region', { name: 'Records' }))
      .getAllByRole('link')
      .map((a) => a.textContent ?? '');
    expect(titles.length).toBeGreaterThan(0);
    for (const t of titles) expect(t).toMatch(/^Lab 1/);
  });
});
