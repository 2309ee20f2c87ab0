import { RecordSearchIndex, type SearchDoc } from './searchIndex';

const doc = (id: string, fields: Partial<SearchDoc>): SearchDoc => ({
  id,
  title: '',
  body: '',
  kind: 'Note note',
  date: '2026-11-27',
  ...fields,
});

describe('RecordSearchIndex (MiniSearch, in the search worker)', () => {
  it('when a word is in one record’s title and another’s text, then the title comes first', () => {
    const index = new RecordSearchIndex();
    index.put([
      doc('a', { title: 'Physio plan', body: 'After the knee MRI' }),
      doc('b', { title: 'Knee MRI', body: 'Small tear' }),
    ]);
    expect(index.search('knee')).toEqual(['b', 'a']);
  });

  it('when every word must match, a word is typed in part or with a typo, then the right records are found', () => {
    const index = new RecordSearchIndex();
    index.put([
      doc('a', { title: 'Cholesterol panel', body: 'LDL high' }),
      doc('b', { title: 'Cholesterol follow-up', body: 'LDL normal' }),
    ]);
    expect(index.search('chol high').sort()).toEqual(['a']);
    expect(index.search('cholesterl').sort()).toEqual(['a', 'b']);
    expect(index.search('   ')).toEqual([]);
  });

  it('when a record gets a new version or stops verifying, then its old words no longer find it', () => {
    const index = new RecordSearchIndex();
    index.put([doc('a', { title: 'Knee MRI' })]);
    index.put([doc('a', { title: 'Shoulder X-ray' })]);
    expect(index.search('knee')).toEqual([]);
    expect(index.search('shoulder')).toEqual(['a']);
    index.remove(['a', 'never-indexed']);
    expect(index.search('shoulder')).toEqual([]);
    expect(index.size).toBe(0);
  });
});
