import * as openpgp from 'openpgp';
import {
  addRecipientPacket,
  appendRecipientPacket,
  checkEncryptedTo,
  checkRecipientPacket,
  inspectMessage,
  MessageCheckError,
  recipientKeyIdOf,
  splitRecipientPackets,
} from '../src';
import { recipientPackets } from '../src/inspect';
import { toBase64Url } from '../src/encoding';
import { codeOf, fixture, makeUser } from './helpers';

const MAX = 1024 * 1024;
const noAead = { aeadProtect: false };

async function encryptTo(
  publicKeys: string[],
  opts: Partial<openpgp.EncryptOptions> = {},
  format: 'armored' | 'binary' = 'armored',
) {
  const keys = await Promise.all(publicKeys.map((k) => openpgp.readKey({ armoredKey: k })));
  const message = await openpgp.createMessage({ text: 'hello' });
  if (format === 'binary')
    return openpgp.encrypt({
      message,
      encryptionKeys: keys,
      config: noAead,
      ...opts,
      format: 'binary',
    });
  return openpgp.encrypt({
    message,
    encryptionKeys: keys,
    config: noAead,
    ...opts,
    format: 'armored',
  });
}

let alice: Awaited<ReturnType<typeof makeUser>>;
let bob: Awaited<ReturnType<typeof makeUser>>;
let carol: Awaited<ReturnType<typeof makeUser>>;

beforeAll(async () => {
  [alice, bob, carol] = await Promise.all([makeUser('Alice'), makeUser('Bob'), makeUser('Carol')]);
});

describe('inspectMessage', () => {
  it('when given an armored message to two keys, then it lists two PKESKs with their key IDs and one SEIPDv1', async () => {
    const armored = await encryptTo([alice.publicKey, bob.publicKey]);
    const summary = await inspectMessage(armored, { maxBytes: MAX });
    expect(summary.format).toBe('armored');
    expect(summary.packets.map((p) => p.type)).toEqual(['pkesk', 'pkesk', 'seipd']);
    expect(summary.packets[2]?.version).toBe(1);
    expect(summary.recipientKeyIds).toHaveLength(2);
    expect(summary.recipientKeyIds).toContain(alice.privateKey.key.subkeys[0]?.getKeyID().toHex());
  });

  it('when given binary, then it reads binary; when larger than maxBytes, then too-large', async () => {
    const binary = await encryptTo([alice.publicKey], {}, 'binary');
    expect((await inspectMessage(binary, { maxBytes: MAX })).format).toBe('binary');
    expect(await codeOf(inspectMessage(binary, { maxBytes: 10 }))).toBe('too-large');
  });

  it('when the armor is a public key block, then not-a-message; when there is no armor, then not-armored', async () => {
    expect(await codeOf(inspectMessage(alice.publicKey, { maxBytes: MAX }))).toBe('not-a-message');
    expect(await codeOf(inspectMessage('just text', { maxBytes: MAX }))).toBe('not-armored');
  });
});

describe('checkEncryptedTo', () => {
  it('when the PKESKs are exactly the recipients, then it returns the summary (armored and binary)', async () => {
    const armored = await encryptTo([alice.publicKey, bob.publicKey]);
    const summary = await checkEncryptedTo(armored, [bob.publicKey, alice.publicKey], {
      maxBytes: MAX,
    });
    expect(summary.recipientKeyIds).toHaveLength(2);
    const binary = await encryptTo([alice.publicKey], {}, 'binary');
    await expect(
      checkEncryptedTo(binary, [alice.publicKey], { maxBytes: MAX }),
    ).resolves.toMatchObject({ format: 'binary' });
  });

  it('when a declared recipient has no PKESK, then recipient-mismatch naming the missing fingerprint', async () => {
    const armored = await encryptTo([alice.publicKey]);
    const error = await checkEncryptedTo(armored, [alice.publicKey, bob.publicKey], {
      maxBytes: MAX,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessageCheckError);
    expect((error as MessageCheckError).code).toBe('recipient-mismatch');
    expect((error as MessageCheckError).details).toMatchObject({
      missingRecipients: [bob.fingerprint],
      unexpectedKeyIds: [],
    });
  });

  it('when the message has a PKESK for an undeclared key, then recipient-mismatch', async () => {
    const armored = await encryptTo([alice.publicKey, carol.publicKey]);
    expect(await codeOf(checkEncryptedTo(armored, [alice.publicKey], { maxBytes: MAX }))).toBe(
      'recipient-mismatch',
    );
  });

  it('when the PKESK key ID is a wildcard, then recipient-mismatch', async () => {
    const armored = await encryptTo([alice.publicKey], { wildcard: true });
    expect(await codeOf(checkEncryptedTo(armored, [alice.publicKey], { maxBytes: MAX }))).toBe(
      'recipient-mismatch',
    );
  });

  it('when the session key is also encrypted to a password (SKESK), then recipient-mismatch', async () => {
    const armored = await encryptTo([alice.publicKey], { passwords: 'pw' });
    expect(await codeOf(checkEncryptedTo(armored, [alice.publicKey], { maxBytes: MAX }))).toBe(
      'recipient-mismatch',
    );
  });

  it('when the message is signed but not encrypted, then unencrypted-data', async () => {
    const signed = await openpgp.sign({
      message: await openpgp.createMessage({ text: 'in the clear' }),
      signingKeys: alice.privateKey.key,
    });
    expect(await codeOf(checkEncryptedTo(signed, [alice.publicKey], { maxBytes: MAX }))).toBe(
      'unencrypted-data',
    );
  });

  it('when the data is compressed at the top level, then unencrypted-data', async () => {
    const compressed = await openpgp.sign({
      message: await openpgp.createMessage({ text: 'in the clear' }),
      signingKeys: alice.privateKey.key,
      format: 'object',
    });
    // A compressed data packet (tag 8, algorithm 0 = stored) wrapping the signed literal data.
    const inner = compressed.packets.write();
    const body = new Uint8Array([0, ...inner]);
    const packet = new Uint8Array([
      0xc8,
      0xff,
      0,
      0,
      body.length >> 8,
      body.length & 0xff,
      ...body,
    ]);
    const armored = openpgp.armor(openpgp.enums.armor.message, packet);
    expect(await codeOf(checkEncryptedTo(armored, [alice.publicKey], { maxBytes: MAX }))).toBe(
      'unencrypted-data',
    );
  });

  it('when the encrypted packet is SED (no MDC), then no-integrity', async () => {
    const good = fixture('good.pub.asc');
    expect(
      await codeOf(checkEncryptedTo(fixture('sed-to-good.asc'), [good], { maxBytes: MAX })),
    ).toBe('no-integrity');
  });

  it('when the message uses SEIPDv2 (AEAD), then not-a-message', async () => {
    const aeadKey = await openpgp.generateKey({
      type: 'ecc',
      userIDs: [{ email: 'a@example.org' }],
      config: { aeadProtect: true },
    });
    const armored = await openpgp.encrypt({
      message: await openpgp.createMessage({ text: 'x' }),
      encryptionKeys: await openpgp.readKey({ armoredKey: aeadKey.publicKey }),
      config: { aeadProtect: true },
    });
    expect(
      (await inspectMessage(armored, { maxBytes: MAX })).packets.map((p) => [p.type, p.version]),
    ).toEqual([
      ['pkesk', 6],
      ['seipd', 2],
    ]);
    expect(await codeOf(checkEncryptedTo(armored, [alice.publicKey], { maxBytes: MAX }))).toBe(
      'not-a-message',
    );
  });

  it('when the armored body is not base64 or the checksum is wrong, then not-armored', async () => {
    const armored = await encryptTo([alice.publicKey]);
    const broken = armored.replace(/\n([A-Za-z0-9+/]{10})/, '\n!!!!!!!!!!');
    expect(await codeOf(checkEncryptedTo(broken, [alice.publicKey], { maxBytes: MAX }))).toBe(
      'not-armored',
    );
  });

  it('when the armored bytes are truncated packets, then not-a-message', async () => {
    const body = toBase64Url(new Uint8Array([0xc1, 0x50, 3, 1, 2]))
      .replace(/-/g, '+')
      .replace(/_/g, '/');
    const padded = body + '='.repeat((4 - (body.length % 4)) % 4);
    const armored = `-----BEGIN PGP MESSAGE-----\n\n${padded}\n-----END PGP MESSAGE-----\n`;
    expect(await codeOf(checkEncryptedTo(armored, [alice.publicKey], { maxBytes: MAX }))).toBe(
      'not-a-message',
    );
  });

  it('when the armored input is longer than maxBytes, then too-large before any parsing', async () => {
    expect(
      await codeOf(checkEncryptedTo('x'.repeat(101), [alice.publicKey], { maxBytes: 100 })),
    ).toBe('too-large');
  });

  it('when a declared recipient key is itself unusable, then its key error code', async () => {
    const armored = await encryptTo([alice.publicKey]);
    expect(
      await codeOf(checkEncryptedTo(armored, [fixture('revoked.pub.asc')], { maxBytes: MAX })),
    ).toBe('key-revoked');
  });
});

describe('checkRecipientPacket and addRecipientPacket', () => {
  async function pkeskFor(publicKey: string): Promise<string> {
    const key = await openpgp.readKey({ armoredKey: publicKey });
    const bytes = await openpgp.encryptSessionKey({
      data: new Uint8Array(32).fill(7),
      algorithm: 'aes256',
      encryptionKeys: key,
      format: 'binary',
    });
    return toBase64Url(bytes);
  }

  it('when the PKESK is for the recipient, then it passes; for someone else, then recipient-mismatch', async () => {
    const pkesk = await pkeskFor(bob.publicKey);
    await expect(checkRecipientPacket(pkesk, bob.publicKey)).resolves.toBeUndefined();
    expect(await codeOf(checkRecipientPacket(pkesk, carol.publicKey))).toBe('recipient-mismatch');
  });

  it('when the input is not one PKESK packet, then not-a-message', async () => {
    expect(await codeOf(checkRecipientPacket('***', bob.publicKey))).toBe('not-a-message');
    const two = (await pkeskFor(bob.publicKey)) + '';
    const twoPackets = toBase64Url(
      new Uint8Array([...Buffer.from(two, 'base64url'), ...Buffer.from(two, 'base64url')]),
    );
    expect(await codeOf(checkRecipientPacket(twoPackets, bob.publicKey))).toBe('not-a-message');
    const armored = await encryptTo([bob.publicKey], {}, 'binary');
    expect(await codeOf(checkRecipientPacket(toBase64Url(armored), bob.publicKey))).toBe(
      'not-a-message',
    );
  });

  it('when a PKESK is spliced into an armored message, then the message is armored and has the new recipient', async () => {
    const armored = await encryptTo([alice.publicKey]);
    const [existing] = recipientPackets(armored);
    const spliced = await addRecipientPacket(armored, await pkeskFor(bob.publicKey));
    expect(typeof spliced).toBe('string');
    await expect(
      checkEncryptedTo(spliced, [alice.publicKey, bob.publicKey], { maxBytes: MAX }),
    ).resolves.toBeDefined();
    expect(recipientPackets(spliced)[0]).toBe(existing);
    // openpgp.js still reads it and alice can still decrypt
    const message = await openpgp.readMessage({ armoredMessage: spliced });
    const { data } = await openpgp.decrypt({ message, decryptionKeys: alice.privateKey.key });
    expect(data).toBe('hello');
  });

  it('when a PKESK is spliced into binary, then binary comes back; a second one for the same key is refused', async () => {
    const binary = await encryptTo([alice.publicKey], {}, 'binary');
    const pkesk = await pkeskFor(bob.publicKey);
    const spliced = await addRecipientPacket(binary, pkesk);
    expect(spliced).toBeInstanceOf(Uint8Array);
    expect(spliced.length).toBe(binary.length + Buffer.from(pkesk, 'base64url').length);
    expect(await codeOf(addRecipientPacket(spliced, pkesk))).toBe('recipient-mismatch');
  });

  it('when the caller allocates the new message (uninitialised memory), then every old byte is overwritten: armored and binary come out as with a zeroed buffer', async () => {
    const pkesk = await pkeskFor(bob.publicKey);
    // Stands in for Buffer.allocUnsafeSlow: memory still holding someone else's bytes.
    const dirty = (length: number) => new Uint8Array(length).fill(0xee);
    const binary = await encryptTo([alice.publicKey], {}, 'binary');
    expect(await addRecipientPacket(binary, pkesk, { allocate: dirty })).toEqual(
      await addRecipientPacket(binary, pkesk),
    );
    const armored = await encryptTo([alice.publicKey]);
    expect(await addRecipientPacket(armored, pkesk, { allocate: dirty })).toBe(
      await addRecipientPacket(armored, pkesk),
    );
    expect(
      await addRecipientPacket(binary, pkesk, {
        allocate: (length) => Buffer.allocUnsafeSlow(length),
      }),
    ).toEqual(await addRecipientPacket(binary, pkesk));
  });

  it('when allocate returns a buffer of another length, then invalid-argument', async () => {
    const binary = await encryptTo([alice.publicKey], {}, 'binary');
    const pkesk = await pkeskFor(bob.publicKey);
    expect(
      await codeOf(
        addRecipientPacket(binary, pkesk, { allocate: (length) => new Uint8Array(length + 1) }),
      ),
    ).toBe('invalid-argument');
    expect(
      await codeOf(
        addRecipientPacket(binary, pkesk, { allocate: (length) => new Uint8Array(length - 1) }),
      ),
    ).toBe('invalid-argument');
  });

  it('when the target is not an encrypted message, then its structure code', async () => {
    expect(
      await codeOf(addRecipientPacket(fixture('sed-to-good.asc'), await pkeskFor(bob.publicKey))),
    ).toBe('no-integrity');
  });
});

describe('splitRecipientPackets and appendRecipientPacket (a message stored as packets + body)', () => {
  const concat = (packets: readonly string[], body: Uint8Array) =>
    new Uint8Array([...packets.flatMap((p) => [...Buffer.from(p, 'base64url')]), ...body]);
  const syncCode = (run: () => unknown) => codeOf(Promise.resolve().then(run));

  it('when a binary message is split, then its packets and body put back together are the message, and the body is a view, not a copy', async () => {
    const binary = await encryptTo([alice.publicKey, bob.publicKey], {}, 'binary');
    const { packets, body } = splitRecipientPackets(binary);
    expect(packets).toEqual(recipientPackets(binary));
    expect(packets.map(recipientKeyIdOf)).toEqual(
      (await inspectMessage(binary, { maxBytes: MAX })).recipientKeyIds,
    );
    expect(body.buffer).toBe(binary.buffer);
    expect(concat(packets, body)).toEqual(binary);
  });

  it('when a packet is appended to the list, then the joined message has the new recipient, who can read it, and the old ones still can', async () => {
    const binary = await encryptTo([alice.publicKey], {}, 'binary');
    const { packets, body } = splitRecipientPackets(binary);
    const [existing] = packets;
    // The session key itself, as the sharer's createRecipientPacket would get it.
    const message = await openpgp.readMessage({ binaryMessage: binary });
    const [sessionKey] = await openpgp.decryptSessionKeys({
      message,
      decryptionKeys: alice.privateKey.key,
    });
    const bobKey = await openpgp.readKey({ armoredKey: bob.publicKey });
    const forBob = toBase64Url(
      await openpgp.encryptSessionKey({
        ...(sessionKey as openpgp.DecryptedSessionKey & { algorithm: 'aes256' }),
        encryptionKeys: bobKey,
        format: 'binary',
      }),
    );
    const joined = concat(appendRecipientPacket(packets, forBob), body);
    await expect(
      checkEncryptedTo(joined, [alice.publicKey, bob.publicKey], { maxBytes: MAX }),
    ).resolves.toBeDefined();
    expect(recipientPackets(joined)).toEqual([existing, forBob]);
    for (const reader of [alice, bob]) {
      const { data } = await openpgp.decrypt({
        message: await openpgp.readMessage({ binaryMessage: joined }),
        decryptionKeys: reader.privateKey.key,
      });
      expect(data).toBe('hello');
    }
  });

  it('when the list already has a packet for that key, or the packet is not one PKESK, or the message is not encrypted data, then the stable codes', async () => {
    const { packets } = splitRecipientPackets(
      await encryptTo([alice.publicKey, bob.publicKey], {}, 'binary'),
    );
    expect(await syncCode(() => appendRecipientPacket(packets, packets[1] ?? ''))).toBe(
      'recipient-mismatch',
    );
    expect(await syncCode(() => appendRecipientPacket(packets, '***'))).toBe('not-a-message');
    expect(await syncCode(() => recipientKeyIdOf('***'))).toBe('not-a-message');
    expect(await syncCode(() => splitRecipientPackets(new Uint8Array([1, 2, 3])))).toBe(
      'not-a-message',
    );
    const sed = await openpgp.unarmor(fixture('sed-to-good.asc'));
    expect(await syncCode(() => splitRecipientPackets(sed.data as Uint8Array))).toBe(
      'no-integrity',
    );
  });
});
