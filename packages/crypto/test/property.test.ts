// Property tests (fast-check): round-trips for random content and 1–20 recipients, and any
// single-byte change to a message is detected. Run counts are kept small (real crypto).
import fc from 'fast-check';
import {
  checkEncryptedTo,
  inspectMessage,
  MessageCheckError,
  openFile,
  openRecord,
  sealFile,
  sealRecord,
  type GeneratedUserKey,
  type JsonObject,
} from '../src';
import { canonicalJson } from '../src/encoding';
import { armorMessage, dearmor } from '../src/inspect/armor';
import { framePackets } from '../src/inspect/packets';
import { makeUser, sampleEnvelope } from './helpers';

let users: GeneratedUserKey[] = [];
beforeAll(async () => {
  users = await Promise.all(Array.from({ length: 20 }, (_, i) => makeUser(`P${i}`)));
});

const content = fc.dictionary(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.jsonValue({ maxDepth: 3, stringUnit: 'grapheme' }),
  { maxKeys: 6 },
);

describe('properties', () => {
  it('seal → open round-trips any JSON content for 1–20 recipients, for every reader', async () => {
    await fc.assert(
      fc.asyncProperty(
        content,
        fc.integer({ min: 1, max: 20 }),
        fc.nat(),
        async (c, count, pick) => {
          const recipients = users.slice(0, count);
          const author = users[pick % count] as GeneratedUserKey;
          const reader = users[(pick * 7) % count] as GeneratedUserKey;
          const { message, envelope } = await sealRecord({
            envelope: { ...sampleEnvelope, content: c as JsonObject },
            authorKey: author.privateKey,
            recipientKeys: recipients.map((u) => u.publicKey),
          });
          const result = await openRecord({
            message,
            myKey: reader.privateKey,
            expect: {
              ...sampleEnvelope,
              authorPublicKey: author.publicKey,
              authorFingerprint: author.fingerprint,
              recipients: envelope.recipients,
            },
          });
          expect(result.status).toBe('verified');
          if (result.status === 'verified')
            expect(canonicalJson(result.envelope.content)).toBe(canonicalJson(c));
        },
      ),
      { numRuns: 40 },
    );
  });

  // What "any single-byte change is detected" means precisely. The session-key packets (PKESK) are
  // not authenticated by OpenPGP, and a few of their bytes have more than one encoding of the same
  // value: the packet header (old vs new format), the MPI bit count (263 vs 257..264 bits give
  // the same 33 bytes), and the top bit of the X25519 point (ignored by X25519, RFC 7748 §5).
  // Such a change decrypts to the same session key, so the same verified plaintext comes out. The
  // properties are therefore: every change inside the encrypted data packet is refused, and a
  // change anywhere else is refused or yields the identical verified envelope / bytes.
  it('any single-byte change to a record message is refused, or opens to the identical envelope', async () => {
    const [author, reader] = users as [GeneratedUserKey, GeneratedUserKey];
    const { message, envelope } = await sealRecord({
      envelope: sampleEnvelope,
      authorKey: author.privateKey,
      recipientKeys: [reader.publicKey],
    });
    const decoded = dearmor(message);
    if (!decoded.ok) throw new Error('not armored');
    const bytes = decoded.bytes;
    const seipd = framePackets(bytes).find((p) => p.tag === 18);
    if (!seipd) throw new Error('no SEIPD');
    const expectation = {
      ...sampleEnvelope,
      authorPublicKey: author.publicKey,
      recipients: envelope.recipients,
    };
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: bytes.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (at, xor) => {
          const changed = bytes.slice();
          changed[at] = (changed[at] ?? 0) ^ xor;
          const result = await openRecord({
            message: armorMessage(changed),
            myKey: reader.privateKey,
            expect: expectation,
          });
          if (at >= seipd.start) expect(result.status).not.toBe('verified');
          else if (result.status === 'verified') expect(result.envelope).toEqual(envelope);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('any single-byte change inside the encrypted data of an attachment is refused; elsewhere refused or identical', async () => {
    const [author, reader] = users as [GeneratedUserKey, GeneratedUserKey];
    const data = new Uint8Array(5000).fill(1);
    const { message } = await sealFile({
      data,
      authorKey: author.privateKey,
      recipientKeys: [reader.publicKey],
    });
    const seipd = framePackets(message).find((p) => p.tag === 18);
    if (!seipd) throw new Error('no SEIPD');
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: message.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (at, xor) => {
          const changed = message.slice();
          changed[at] = (changed[at] ?? 0) ^ xor;
          const result = await openFile({
            message: changed,
            myKey: reader.privateKey,
            authorPublicKey: author.publicKey,
          });
          if (at >= seipd.start) expect(result.status).not.toBe('verified');
          else if (result.status === 'verified')
            expect(Buffer.from(result.data).equals(Buffer.from(data))).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('the PKESK encodings that survive a change are exactly the known harmless ones (exhaustive over the first packet)', async () => {
    const [author, reader] = users as [GeneratedUserKey, GeneratedUserKey];
    const { message, envelope } = await sealRecord({
      envelope: sampleEnvelope,
      authorKey: author.privateKey,
      recipientKeys: [reader.publicKey],
    });
    const decoded = dearmor(message);
    if (!decoded.ok) throw new Error('not armored');
    const [pkesk] = framePackets(decoded.bytes);
    if (!pkesk || pkesk.tag !== 1) throw new Error('no PKESK first');
    const expectation = {
      ...sampleEnvelope,
      authorPublicKey: author.publicKey,
      recipients: envelope.recipients,
    };
    const survivors: number[] = [];
    for (let at = pkesk.start; at < pkesk.end; at++) {
      for (const xor of [0x01, 0x80, 0x45]) {
        const changed = decoded.bytes.slice();
        changed[at] = (changed[at] ?? 0) ^ xor;
        const result = await openRecord({
          message: armorMessage(changed),
          myKey: reader.privateKey,
          expect: expectation,
        });
        if (result.status === 'verified') {
          expect(result.envelope).toEqual(envelope);
          survivors.push(at - pkesk.bodyStart);
        }
      }
    }
    // body offsets: -2 = header byte (0x45 turns the new-format header into the same old-format
    // one), 11 = low byte of the MPI bit count, 44 = last byte of the X25519 point (top bit)
    expect([...new Set(survivors)].every((o) => [-2, 11, 44].includes(o))).toBe(true);
  });

  it('the server checks never throw anything but MessageCheckError on arbitrary bytes or mangled armor', async () => {
    const [author, reader] = users as [GeneratedUserKey, GeneratedUserKey];
    const { message } = await sealRecord({
      envelope: sampleEnvelope,
      authorKey: author.privateKey,
      recipientKeys: [reader.publicKey],
    });
    const onlyCheckErrors = async (run: () => Promise<unknown>) => {
      try {
        await run();
      } catch (error) {
        expect(error).toBeInstanceOf(MessageCheckError);
      }
    };
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), async (bytes) => {
        await onlyCheckErrors(() => inspectMessage(bytes, { maxBytes: 1 << 20 }));
        await onlyCheckErrors(() =>
          checkEncryptedTo(bytes, [reader.publicKey], { maxBytes: 1 << 20 }),
        );
      }),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: message.length - 1 }),
        fc.string({ minLength: 0, maxLength: 3 }),
        async (at, insert) => {
          const mangled = message.slice(0, at) + insert + message.slice(at + 1);
          await onlyCheckErrors(() =>
            checkEncryptedTo(mangled, [reader.publicKey], { maxBytes: 1 << 20 }),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
