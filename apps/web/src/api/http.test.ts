import { fillPath } from './http';
import { ApiError, describeError } from './errors';

describe('API client helpers', () => {
  it('when a path has parameters, then they are filled and URL-encoded', () => {
    expect(
      fillPath('/records/:recordId/attachments/:attachmentId', {
        recordId: 'a/b',
        attachmentId: 'x y',
      }),
    ).toBe('/records/a%2Fb/attachments/x%20y');
  });

  it('when a parameter is missing, then it throws instead of calling a wrong URL', () => {
    expect(() => fillPath('/records/:recordId', {})).toThrow(/missing path parameter recordId/);
  });

  it('when an error has a known code, then people get a sentence, not the raw code', () => {
    expect(
      describeError(new ApiError({ status: 401, code: 'invalid-credentials', message: 'x' })),
    ).toBe('That email and password do not match an account.');
    expect(
      describeError(new ApiError({ status: 400, code: 'something-new', message: 'Server words.' })),
    ).toBe('Server words.');
  });
});
