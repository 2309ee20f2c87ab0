import {
  createRecoveryKey,
  lockPrivateKey,
  recoverySecretFromWords,
  unlockPrivateKey,
  CryptoError,
} from '../src';
import { makeUser } from './helpers';

async function failure(words: string | string[]): Promise<CryptoError> {
  const error = await recoverySecretFromWords(words).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(CryptoError);
  expect((error as CryptoError).code).toBe('bad-recovery-words');
  return error as CryptoError;
}

describe('recovery key', () => {
  it('when created, then it is 12 BIP39 words whose secret unlocks the recovery copy of the key', async () => {
    const me = await makeUser('Recoverer');
    const { words, secret } = await createRecoveryKey();
    expect(words).toHaveLength(12);
    const locked = await lockPrivateKey({ privateKey: me.privateKey, secret });
    const back = await recoverySecretFromWords(words);
    expect(Buffer.from(back).equals(Buffer.from(secret))).toBe(true);
    expect((await unlockPrivateKey({ lockedKey: locked, secret: back })).fingerprint).toBe(
      me.fingerprint,
    );
  });

  it('when typed with capitals, commas, line breaks or 4-letter prefixes, then it is accepted', async () => {
    const { words, secret } = await createRecoveryKey();
    const typed = words
      .map((w, i) => (i % 2 === 0 ? w.toUpperCase() : w.slice(0, 4)))
      .join(',\n  ');
    expect(Buffer.from(await recoverySecretFromWords(typed)).equals(Buffer.from(secret))).toBe(
      true,
    );
  });

  it('when the downloaded kit is pasted whole (title, account, numbered words, advice), then only the numbered words count', async () => {
    const { words, secret } = await createRecoveryKey();
    const kit = [
      'Medseal recovery kit',
      '',
      'Account: pat.1.smith@example.org',
      '',
      'Recovery words (in order):',
      ...words.map((w, i) => `${String(i + 1).padStart(2, ' ')}. ${w}`),
      '',
      'Keep this somewhere safe and offline. If you lose both your password and these words, nobody can open your records again.',
    ].join('\r\n');
    expect(Buffer.from(await recoverySecretFromWords(kit)).equals(Buffer.from(secret))).toBe(true);
  });

  it("when numbered words are pasted on one line, with capitals and punctuation, then they are accepted in their numbers' order", async () => {
    const { words, secret } = await createRecoveryKey();
    const line = words.map((w, i) => `${i + 1}. ${w.toUpperCase()}`);
    const swapped = [line[1], line[0], ...line.slice(2)].join(', ');
    expect(
      Buffer.from(await recoverySecretFromWords(`${swapped}.`)).equals(Buffer.from(secret)),
    ).toBe(true);
  });

  it('when words are separated by numbers without dots or dashes, then the numbers are ignored', async () => {
    const { words, secret } = await createRecoveryKey();
    expect(
      Buffer.from(
        await recoverySecretFromWords(words.map((w, i) => `${i + 1} ${w}`).join(' - ')),
      ).equals(Buffer.from(secret)),
    ).toBe(true);
  });

  it('when a word is missing, then bad-recovery-words (word-count)', async () => {
    const { words } = await createRecoveryKey();
    expect((await failure(words.slice(1))).details).toMatchObject({
      reason: 'word-count',
      count: 11,
    });
  });

  it('when a word is not in the list, then bad-recovery-words naming its position', async () => {
    const { words } = await createRecoveryKey();
    const typo = [...words];
    typo[4] = 'xyzzy';
    expect((await failure(typo)).details).toEqual({ reason: 'unknown-word', position: 5 });
  });

  it('when a valid word is wrong, then bad-recovery-words (checksum)', async () => {
    // all-zero entropy is "abandon ×11 about"; "abandon ×12" fails the checksum
    const error = await failure(Array(12).fill('abandon'));
    expect(error.details).toEqual({ reason: 'checksum' });
    expect(error.message).not.toContain('abandon');
  });
});
