import { JsonBytes } from '../src/lib/routing';

const parsed = (answer: JsonBytes<unknown>) => JSON.parse(answer.bytes.toString('utf8')) as unknown;

describe('JsonBytes.ofList (a list page put together from its records’ serialized answers)', () => {
  const items = [
    JsonBytes.of({ id: 'a', message: 'line 1\nline "2"' }),
    JsonBytes.of({ id: 'b,]}' }),
  ];

  it('when the page has a next cursor, then the bytes are the JSON of the whole page', () => {
    expect(parsed(JsonBytes.ofList('records', items, { nextCursor: 'Mg' }))).toEqual({
      records: [{ id: 'a', message: 'line 1\nline "2"' }, { id: 'b,]}' }],
      nextCursor: 'Mg',
    });
  });

  it('when the page is the last or empty, then there is no cursor and an empty page is []', () => {
    expect(parsed(JsonBytes.ofList('records', items, {}))).toEqual({
      records: [{ id: 'a', message: 'line 1\nline "2"' }, { id: 'b,]}' }],
    });
    expect(parsed(JsonBytes.ofList('records', [], {}))).toEqual({ records: [] });
  });
});
