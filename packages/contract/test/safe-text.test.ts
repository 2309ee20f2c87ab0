import { emailSchema, hasUnsafeCharacters, teamNameSchema } from '../src/index';

describe('names and emails people read (issue 15, finding 12)', () => {
  it.each([
    ['a right-to-left override', 'Dr \u202eAnn'],
    ['a bidi isolate', 'Ann\u2066x\u2069'],
    ['a right-to-left mark', 'Ann\u200f'],
    ['a NUL', 'Ann\u0000'],
    ['an escape', 'Ann\u001b[31m'],
    ['a C1 control', 'Ann\u0085'],
    ['a zero-width space', 'An\u200bn'],
    ['a line separator', 'Ann\u2028Bob'],
  ])('when a name has %s, then it is unsafe', (_what, text) => {
    expect(hasUnsafeCharacters(text)).toBe(true);
    expect(teamNameSchema.safeParse(text).success).toBe(false);
  });

  it.each([['Zoë Ångström'], ['محمد'], ['田中 太郎'], ['👩‍⚕️ Dr Ann'], ['می‌خواهم']])(
    'when a name is %s, then it is fine',
    (text) => {
      expect(hasUnsafeCharacters(text)).toBe(false);
      expect(teamNameSchema.safeParse(text).success).toBe(true);
    },
  );

  it('when an email hides a bidi override or a control character, then it is refused with the unsafe-characters code', () => {
    for (const email of [
      'ann\u202e@example.org',
      'ann@exa\u0007mple.org',
      'ann@example.org\u200e',
    ]) {
      const result = emailSchema.safeParse(email);
      expect(result.success).toBe(false);
      expect(
        result.error?.issues.some(
          (i) =>
            i.code === 'custom' && (i.params as { code?: string }).code === 'unsafe-characters',
        ),
      ).toBe(true);
    }
    expect(emailSchema.parse(' Ann@Example.org ')).toBe('ann@example.org');
  });
});
