// Recovery key (DESIGN §3): 128 random bits shown once as 12 BIP39 words.
import { entropyToMnemonic, mnemonicToEntropy } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english';
import { CryptoError } from './errors';
import { randomBytes, utf8 } from './encoding';
import { hmacSha256 } from './secrets';

const WORD_COUNT = 12;

/** The secret that locks the recovery copy of the private key. 128 random bits need no stretching. */
async function secretFromEntropy(entropy: Uint8Array): Promise<Uint8Array> {
  return hmacSha256(entropy, utf8('medseal/v1/recovery-key'));
}

/** Makes a fresh recovery key: the 12 words to show once, and the secret to lock the key copy with. */
export async function createRecoveryKey(): Promise<{ words: string[]; secret: Uint8Array }> {
  const entropy = randomBytes(16);
  const words = entropyToMnemonic(entropy, wordlist).split(' ');
  const secret = await secretFromEntropy(entropy);
  entropy.fill(0);
  return { words, secret };
}

function resolveWord(word: string): string | undefined {
  if (wordlist.includes(word)) return word;
  // BIP39 English words are unique in their first four letters, so accept those as a shorthand.
  if (word.length >= 4) {
    const matches = wordlist.filter((w) => w.startsWith(word.slice(0, 4)));
    if (matches.length === 1 && (matches[0] ?? '').startsWith(word)) return matches[0];
  }
  return undefined;
}

/**
 * The words in typed or pasted text. When words are numbered ("1. demise 2. …", "12) zoo"), as
 * in the downloaded kit, only the numbered ones count, in their numbers' order, so the kit can
 * be pasted whole (its other lines hold words of the list too: "account", "order", "safe").
 * Otherwise every run of letters is a word: numbers, punctuation, case and line breaks are ignored.
 */
function wordsIn(text: string): string[] {
  const lower = text.toLowerCase();
  const numbered = [...lower.matchAll(/(?:^|\s)(\d{1,2})\s*[.):]\s*(\p{L}+)/gu)];
  if (numbered.length > 0) {
    return numbered.sort((a, b) => Number(a[1]) - Number(b[1])).map((m) => m[2] ?? '');
  }
  return lower.split(/[^\p{L}]+/u).filter((w) => w.length > 0);
}

/**
 * Turns typed or pasted recovery words back into the secret (see `wordsIn` for what is
 * ignored); a word may be given by its first four letters.
 * @throws CryptoError `bad-recovery-words` with `details.reason` = 'word-count' | 'unknown-word'
 * (and `details.position`, 1-based) | 'checksum' (a word is wrong or out of order).
 */
export async function recoverySecretFromWords(words: string | string[]): Promise<Uint8Array> {
  const list = wordsIn(Array.isArray(words) ? words.join(' ') : String(words));
  if (list.length !== WORD_COUNT) {
    throw new CryptoError(
      'bad-recovery-words',
      `a recovery key has ${WORD_COUNT} words; got ${list.length}`,
      {
        details: { reason: 'word-count', count: list.length },
      },
    );
  }
  const resolved: string[] = [];
  for (const [i, w] of list.entries()) {
    const r = resolveWord(w);
    if (!r) {
      throw new CryptoError('bad-recovery-words', `word ${i + 1} is not a recovery word`, {
        details: { reason: 'unknown-word', position: i + 1 },
      });
    }
    resolved.push(r);
  }
  let entropy: Uint8Array;
  try {
    entropy = mnemonicToEntropy(resolved.join(' '), wordlist);
  } catch (cause) {
    throw new CryptoError(
      'bad-recovery-words',
      'the words do not form a valid recovery key: one is wrong or out of order',
      {
        cause,
        details: { reason: 'checksum' },
      },
    );
  }
  const secret = await secretFromEntropy(entropy);
  entropy.fill(0);
  return secret;
}
