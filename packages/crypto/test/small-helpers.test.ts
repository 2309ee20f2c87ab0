import {
  isFingerprint,
  normaliseEmail,
  parseFingerprint,
  publicKeyOf,
  readPublicKey,
  shareRecord,
  createRecipientPacket,
} from '../src';
import { makeUser } from './helpers';

describe('small helpers', () => {
  it('isFingerprint accepts exactly 40 lowercase hex; parseFingerprint normalises spaces and case', () => {
    const fp = 'ab'.repeat(20);
    expect(isFingerprint(fp)).toBe(true);
    expect(isFingerprint(fp.toUpperCase())).toBe(false);
    expect(isFingerprint(fp.slice(1))).toBe(false);
    expect(isFingerprint(42)).toBe(false);
    expect(parseFingerprint('AB'.repeat(10) + ' ' + 'ab'.repeat(10))).toBe(fp);
    expect(() => parseFingerprint('xyz')).toThrow(
      expect.objectContaining({ code: 'invalid-fingerprint' }),
    );
  });

  it('normaliseEmail trims and lower-cases', () => {
    expect(normaliseEmail('  Ada@Example.ORG ')).toBe('ada@example.org');
  });

  it('publicKeyOf gives the public half, which readPublicKey accepts with the same fingerprint', async () => {
    const me = await makeUser('Half');
    const pub = publicKeyOf(me.privateKey);
    expect(pub).toContain('PUBLIC KEY BLOCK');
    expect((await readPublicKey(pub)).fingerprint).toBe(me.fingerprint);
  });

  it("shareRecord is createRecipientPacket (the issue's name for it)", () => {
    expect(shareRecord).toBe(createRecipientPacket);
  });
});
