// Attack: one byte of the ciphertext is changed in storage or transit.
import { openFile, openRecord, sealFile, sealRecord } from '../../src';
import { armorMessage, dearmor } from '../../src/inspect/armor';
import { framePackets } from '../../src/inspect/packets';
import { makeUser, sampleEnvelope } from '../helpers';

describe('attack: flipped ciphertext byte', () => {
  it('when any byte of the encrypted data packet of a record is flipped, then it is not verified', async () => {
    const [author, reader] = await Promise.all([makeUser('Author'), makeUser('Reader')]);
    const { message, envelope } = await sealRecord({
      envelope: sampleEnvelope,
      authorKey: author.privateKey,
      recipientKeys: [reader.publicKey],
    });
    const decoded = dearmor(message);
    if (!decoded.ok) throw new Error('not armored');
    const seipd = framePackets(decoded.bytes).find((p) => p.tag === 18);
    if (!seipd) throw new Error('no SEIPD');
    const expectation = {
      ...sampleEnvelope,
      authorPublicKey: author.publicKey,
      recipients: envelope.recipients,
    };
    // first data byte after the version, one in the middle, the last (inside the MDC)
    for (const at of [
      seipd.bodyStart + 1,
      Math.floor((seipd.bodyStart + seipd.end) / 2),
      seipd.end - 1,
    ]) {
      const bytes = decoded.bytes.slice();
      bytes[at] = (bytes[at] ?? 0) ^ 0x01;
      const result = await openRecord({
        message: armorMessage(bytes),
        myKey: reader.privateKey,
        expect: expectation,
      });
      expect(result.status).toBe('bad-signature');
    }
  });

  it('when a byte of an attachment is flipped, then it is not verified', async () => {
    const [author, reader] = await Promise.all([makeUser('Author'), makeUser('Reader')]);
    const { message } = await sealFile({
      data: new Uint8Array(50_000).fill(3),
      authorKey: author.privateKey,
      recipientKeys: [reader.publicKey],
    });
    const bytes = message.slice();
    const at = bytes.length - 30_000;
    bytes[at] = (bytes[at] ?? 0) ^ 0x80;
    const result = await openFile({
      message: bytes,
      myKey: reader.privateKey,
      authorPublicKey: author.publicKey,
    });
    expect(result).toEqual({ status: 'bad-signature', reason: 'modified-ciphertext' });
  });
});
