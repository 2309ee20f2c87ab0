import { createSessionKey, openFile, sealFile, type FileProgress } from '../src';
import * as openpgp from 'openpgp';
import { encryptSigned } from '../src/messages';
import { codeOf, fixture, makeUser } from './helpers';

type User = Awaited<ReturnType<typeof makeUser>>;
let author: User;
let reader: User;
let stranger: User;
beforeAll(async () => {
  [author, reader, stranger] = await Promise.all([
    makeUser('Author'),
    makeUser('Reader'),
    makeUser('Stranger'),
  ]);
});

const bytes = (n: number) => new Uint8Array(n).map((_, i) => (i * 31 + 7) & 0xff);

describe('sealFile / openFile', () => {
  it('when sealed with progress, then it reports up to the total and the reader opens identical bytes', async () => {
    const data = bytes(3 * 1024 * 1024 + 5);
    const seen: FileProgress[] = [];
    const { message, sha256 } = await sealFile({
      data,
      authorKey: author.privateKey,
      recipientKeys: [reader.publicKey],
      onProgress: (p) => seen.push(p),
    });
    expect(message[0] ?? 0).toBeGreaterThanOrEqual(0x80); // binary packet header, not armor
    expect(seen[0]).toEqual({ done: 0, total: data.length });
    expect(seen[seen.length - 1]).toEqual({ done: data.length, total: data.length });
    const opened = await openFile({
      message,
      myKey: reader.privateKey,
      authorPublicKey: author.publicKey,
      expectSha256: sha256,
    });
    expect(opened.status).toBe('verified');
    if (opened.status === 'verified')
      expect(Buffer.from(opened.data).equals(Buffer.from(data))).toBe(true);
  });

  it('when opened with progress, then progress climbs to the total; a flipped byte with progress is still refused', async () => {
    const data = bytes(3 * 1024 * 1024);
    const { message, sha256 } = await sealFile({
      data,
      authorKey: author.privateKey,
      recipientKeys: [reader.publicKey],
    });
    const seen: FileProgress[] = [];
    const opened = await openFile({
      message,
      myKey: reader.privateKey,
      authorPublicKey: author.publicKey,
      expectSha256: sha256,
      onProgress: (p) => seen.push(p),
    });
    expect(opened.status).toBe('verified');
    expect(seen.length).toBeGreaterThan(2);
    expect(seen[seen.length - 1]).toEqual({ done: message.length, total: message.length });
    const tampered = message.slice();
    const at = tampered.length - 1000;
    tampered[at] = (tampered[at] ?? 0) ^ 1;
    const refused = await openFile({
      message: tampered,
      myKey: reader.privateKey,
      authorPublicKey: author.publicKey,
      onProgress: () => undefined,
    });
    expect(refused.status).toBe('bad-signature');
    expect(refused).not.toHaveProperty('data');
    const other = await openFile({
      message,
      myKey: reader.privateKey,
      authorPublicKey: stranger.publicKey,
      onProgress: () => undefined,
    });
    expect(other.status).toBe('unknown-author-key');
  });

  it('when sealed without progress, then it opens too; with the wrong expected hash, then context-mismatch', async () => {
    const { message } = await sealFile({
      data: bytes(1000),
      authorKey: author.privateKey,
      recipientKeys: [reader.publicKey],
    });
    expect(
      (await openFile({ message, myKey: reader.privateKey, authorPublicKey: author.publicKey }))
        .status,
    ).toBe('verified');
    expect(
      await openFile({
        message,
        myKey: reader.privateKey,
        authorPublicKey: author.publicKey,
        expectSha256: 'AAAA',
      }),
    ).toEqual({
      status: 'context-mismatch',
      mismatches: ['sha256'],
    });
  });

  it('when opened by a non-recipient or verified against another author, then not-for-me / unknown-author-key', async () => {
    const { message } = await sealFile({
      data: bytes(100),
      authorKey: author.privateKey,
      recipientKeys: [reader.publicKey],
    });
    expect(
      await openFile({ message, myKey: stranger.privateKey, authorPublicKey: author.publicKey }),
    ).toEqual({ status: 'not-for-me' });
    expect(
      (await openFile({ message, myKey: reader.privateKey, authorPublicKey: stranger.publicKey }))
        .status,
    ).toBe('unknown-author-key');
  });

  it('when sharing the record session key, then the file message uses it', async () => {
    const sessionKey = createSessionKey();
    const { message } = await sealFile({
      data: bytes(10),
      authorKey: author.privateKey,
      recipientKeys: [reader.publicKey],
      sessionKey,
    });
    const openpgp = await import('openpgp');
    const [sk] = await openpgp.decryptSessionKeys({
      message: await openpgp.readMessage({ binaryMessage: message }),
      decryptionKeys: reader.privateKey.key,
    });
    expect(Buffer.from(sk?.data ?? []).equals(Buffer.from(sessionKey.data))).toBe(true);
  });

  it('when the input is not bytes or there are no recipients, then invalid-argument', async () => {
    expect(
      await codeOf(
        sealFile({
          data: 'text' as never,
          authorKey: author.privateKey,
          recipientKeys: [reader.publicKey],
        }),
      ),
    ).toBe('invalid-argument');
    expect(
      await codeOf(sealFile({ data: bytes(1), authorKey: author.privateKey, recipientKeys: [] })),
    ).toBe('invalid-argument');
  });

  it.each([
    ['an expired key', 'key-expired', 'expired.pub.asc'],
    ['a revoked key', 'key-revoked', 'revoked.pub.asc'],
    ['a key without an encryption subkey', 'no-encryption-subkey', 'sign-only.pub.asc'],
    ['an RSA 2048 key', 'weak-key', 'rsa2048.pub.asc'],
    ['a v6 key', 'unsupported-key-version', 'v6.pub.asc'],
    ['a private key', 'not-public-key', 'good.sec.asc'],
  ])('when a recipient is %s, then %s and nothing is sealed', async (_label, code, file) => {
    expect(
      await codeOf(
        sealFile({
          data: bytes(10),
          authorKey: author.privateKey,
          recipientKeys: [reader.publicKey, fixture(file)],
        }),
      ),
    ).toBe(code);
  });
});

describe('attachment padding (issue 15, finding 10)', () => {
  it('when files of nearby sizes are sealed, then their messages have the same size (Padmé), and each opens to its exact bytes', async () => {
    const sizes = [100_400, 100_800, 101_500, 102_300]; // one Padmé step: 2 KiB at this size
    const sealed = await Promise.all(
      sizes.map((n) =>
        sealFile({
          data: bytes(n),
          authorKey: author.privateKey,
          recipientKeys: [reader.publicKey],
        }),
      ),
    );
    // Besides padding, a message's size varies by a few bytes with the signature's MPIs.
    const lengths = sealed.map((s) => s.message.length);
    expect(Math.max(...lengths) - Math.min(...lengths)).toBeLessThanOrEqual(4);
    for (const [i, s] of sealed.entries()) {
      const opened = await openFile({
        message: s.message,
        myKey: reader.privateKey,
        authorPublicKey: author.publicKey,
        expectSha256: s.sha256,
      });
      expect(opened.status).toBe('verified');
      if (opened.status === 'verified') expect(opened.data.length).toBe(sizes[i]);
    }
  });

  it('when a file sealed before padding (no prefix) is opened, then it opens as it is; data ending in zeros survives the padding', async () => {
    const readerKey = await openpgp.readKey({ armoredKey: reader.publicKey });
    const legacy = await encryptSigned({
      data: bytes(700),
      signer: author.privateKey,
      recipients: [readerKey],
      format: 'binary',
    });
    const opened = await openFile({
      message: legacy as Uint8Array,
      myKey: reader.privateKey,
      authorPublicKey: author.publicKey,
    });
    expect(opened.status === 'verified' && opened.data.length).toBe(700);
    const zeros = new Uint8Array(1000);
    const { message, sha256 } = await sealFile({
      data: zeros,
      authorKey: author.privateKey,
      recipientKeys: [reader.publicKey],
    });
    const back = await openFile({
      message,
      myKey: reader.privateKey,
      authorPublicKey: author.publicKey,
      expectSha256: sha256,
    });
    expect(back.status === 'verified' && back.data.length).toBe(1000);
  });
});
