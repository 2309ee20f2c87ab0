import { errorBodySchema } from '../src/index';

describe('errorBodySchema', () => {
  it('when a body has a code and message, then it parses; when the code is missing, then it is refused', () => {
    expect(
      errorBodySchema.parse({ error: { code: 'not-found', message: 'No such resource.' } }),
    ).toEqual({
      error: { code: 'not-found', message: 'No such resource.' },
    });
    expect(errorBodySchema.safeParse({ error: { message: 'x' } }).success).toBe(false);
  });
});
