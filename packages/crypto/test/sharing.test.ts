import {
  addRecipientPacket,
  checkEncryptedTo,
  checkRecipientPacket,
  createGrant,
  createRecipientPacket,
  openFile,
  openRecord,
  sealFile,
  sealRecord,
  createSessionKey,
  recipientPackets,
  type RecordId,
  type UserId,
} from '../src';
import * as openpgp from 'openpgp';
import { MESSAGE_CONFIG } from '../src/openpgp-config';
import { codeOf, fixture, makeUser } from './helpers';

type User = Awaited<ReturnType<typeof makeUser>>;
let patient: User;
let doctor: User;
let specialist: User;
let stranger: User;
beforeAll(async () => {
  [patient, doctor, specialist, stranger] = await Promise.all([
    makeUser('Patient'),
    makeUser('Doctor'),
    makeUser('Specialist'),
    makeUser('Stranger'),
  ]);
});

const envelope = {
  recordId: 'rec-7' as RecordId,
  version: 1,
  ownerId: 'u-patient' as UserId,
  authorId: 'u-patient' as UserId,
  createdAt: '2026-11-27T09:00:00.000Z',
  content: { kind: 'lab', title: 'HbA1c', value: 5.4 },
};

describe('createRecipientPacket + addRecipientPacket (share)', () => {
  it('when the owner shares with a doctor, then the server-side checks pass and the doctor opens it as verified via the grant', async () => {
    const { message, envelope: sealed } = await sealRecord({
      envelope,
      authorKey: patient.privateKey,
      recipientKeys: [patient.publicKey],
    });
    const pkesk = await createRecipientPacket({
      message,
      myKey: patient.privateKey,
      newRecipientKey: doctor.publicKey,
    });
    await checkRecipientPacket(pkesk, doctor.publicKey);
    const spliced = await addRecipientPacket(message, pkesk);
    await checkEncryptedTo(spliced, [patient.publicKey, doctor.publicKey], { maxBytes: 1 << 20 });
    const { signedGrant } = await createGrant({
      grant: {
        recordId: sealed.recordId,
        granteeUserId: 'u-doctor' as UserId,
        granteeFingerprint: doctor.fingerprint,
        grantedBy: sealed.ownerId,
      },
      signerKey: patient.privateKey,
    });
    const result = await openRecord({
      message: spliced,
      myKey: doctor.privateKey,
      expect: {
        ...envelope,
        authorPublicKey: patient.publicKey,
        authorFingerprint: patient.fingerprint,
        recipients: [patient.fingerprint, doctor.fingerprint],
        grants: [{ signedGrant, signerPublicKey: patient.publicKey }],
      },
    });
    expect(result.status).toBe('verified');
  });

  it('when a record and its attachment share a session key, then one PKESK serves both', async () => {
    const sessionKey = createSessionKey();
    const { message } = await sealRecord({
      envelope,
      authorKey: patient.privateKey,
      recipientKeys: [patient.publicKey],
      sessionKey,
    });
    const file = await sealFile({
      data: new Uint8Array([1, 2, 3]),
      authorKey: patient.privateKey,
      recipientKeys: [patient.publicKey],
      sessionKey,
    });
    const pkesk = await createRecipientPacket({
      message,
      myKey: patient.privateKey,
      newRecipientKey: doctor.publicKey,
    });
    const sharedFile = await addRecipientPacket(file.message, pkesk);
    const opened = await openFile({
      message: sharedFile,
      myKey: doctor.privateKey,
      authorPublicKey: patient.publicKey,
      expectSha256: file.sha256,
    });
    expect(opened.status).toBe('verified');
  });

  it('when only the packets of a file are given (as the server hands them out), then the new packet opens the whole file for the new reader', async () => {
    const file = await sealFile({
      data: new Uint8Array(70_000).fill(7),
      authorKey: patient.privateKey,
      recipientKeys: [specialist.publicKey, patient.publicKey],
    });
    const packets = recipientPackets(file.message);
    expect(packets).toHaveLength(2);
    const pkesk = await createRecipientPacket({
      recipientPackets: packets,
      myKey: patient.privateKey,
      newRecipientKey: doctor.publicKey,
    });
    const opened = await openFile({
      message: await addRecipientPacket(file.message, pkesk),
      myKey: doctor.privateKey,
      authorPublicKey: patient.publicKey,
      expectSha256: file.sha256,
    });
    expect(opened.status).toBe('verified');
    expect(
      await codeOf(
        createRecipientPacket({
          recipientPackets: packets,
          myKey: stranger.privateKey,
          newRecipientKey: doctor.publicKey,
        }),
      ),
    ).toBe('decryption-failed');
  });

  it('when a given packet is not one PKESK v3, then not-a-message', async () => {
    const { message } = await sealRecord({
      envelope,
      authorKey: patient.privateKey,
      recipientKeys: [patient.publicKey],
    });
    const [own] = recipientPackets(message);
    for (const bad of ['not base64url!', `${own}${own}`, '']) {
      expect(
        await codeOf(
          createRecipientPacket({
            recipientPackets: [bad],
            myKey: patient.privateKey,
            newRecipientKey: doctor.publicKey,
          }),
        ),
      ).toBe('not-a-message');
    }
  });

  it('when the sharer cannot decrypt the message, then decryption-failed', async () => {
    const { message } = await sealRecord({
      envelope,
      authorKey: patient.privateKey,
      recipientKeys: [patient.publicKey],
    });
    expect(
      await codeOf(
        createRecipientPacket({
          message,
          myKey: stranger.privateKey,
          newRecipientKey: doctor.publicKey,
        }),
      ),
    ).toBe('decryption-failed');
  });

  it('when the sharer is one of several readers, then only its packet is used and the new reader opens the record', async () => {
    const { message } = await sealRecord({
      envelope,
      authorKey: patient.privateKey,
      recipientKeys: [specialist.publicKey, patient.publicKey, stranger.publicKey],
    });
    const pkesk = await createRecipientPacket({
      message,
      myKey: patient.privateKey,
      newRecipientKey: doctor.publicKey,
    });
    const shared = await addRecipientPacket(message, pkesk);
    const granted = await openRecord({
      message: shared,
      myKey: doctor.privateKey,
      expect: { ...envelope, authorPublicKey: patient.publicKey, recipients: [] },
    });
    // Decrypted and verified; only the recipient list differs (the doctor holds no grant here).
    expect(granted).toMatchObject({ status: 'context-mismatch', mismatches: ['recipients'] });
  });

  it("when the sharer's packet is anonymous (wildcard key ID), then it is still tried and shared", async () => {
    const message = await openpgp.encrypt({
      message: await openpgp.createMessage({ binary: new Uint8Array([1, 2, 3]) }),
      encryptionKeys: await openpgp.readKey({ armoredKey: patient.publicKey }),
      wildcard: true,
      format: 'binary',
      config: MESSAGE_CONFIG,
    });
    const pkesk = await createRecipientPacket({
      message,
      myKey: patient.privateKey,
      newRecipientKey: doctor.publicKey,
    });
    const shared = await addRecipientPacket(message, pkesk);
    const decrypted = await openpgp.decrypt({
      message: await openpgp.readMessage({ binaryMessage: shared }),
      decryptionKeys: doctor.privateKey.key,
      format: 'binary',
      config: MESSAGE_CONFIG,
    });
    expect(decrypted.data).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('when the new recipient key is unusable, then its key code', async () => {
    const { message } = await sealRecord({
      envelope,
      authorKey: patient.privateKey,
      recipientKeys: [patient.publicKey],
    });
    expect(
      await codeOf(
        createRecipientPacket({
          message,
          myKey: patient.privateKey,
          newRecipientKey: fixture('expired.pub.asc'),
        }),
      ),
    ).toBe('key-expired');
    expect(
      await codeOf(
        createRecipientPacket({
          message,
          myKey: patient.privateKey,
          newRecipientKey: fixture('sign-only.pub.asc'),
        }),
      ),
    ).toBe('no-encryption-subkey');
  });

  it('when the sharer cannot decrypt and the new recipient key is also unusable, then decryption-failed (checked side by side, reported in order)', async () => {
    const { message } = await sealRecord({
      envelope,
      authorKey: patient.privateKey,
      recipientKeys: [patient.publicKey],
    });
    expect(
      await codeOf(
        createRecipientPacket({
          message,
          myKey: stranger.privateKey,
          newRecipientKey: fixture('expired.pub.asc'),
        }),
      ),
    ).toBe('decryption-failed');
  });

  it('when the new recipient key expires after a first share, then the next share refuses it (key-expired), although it was validated and cached', async () => {
    const { message } = await sealRecord({
      envelope,
      authorKey: patient.privateKey,
      recipientKeys: [patient.publicKey],
    });
    const { publicKey: expiring } = await openpgp.generateKey({
      type: 'ecc',
      userIDs: [{ name: 'Locum', email: 'locum@example.org' }],
      keyExpirationTime: 120,
      format: 'armored',
      config: MESSAGE_CONFIG,
    });
    expect(
      typeof (await createRecipientPacket({
        message,
        myKey: patient.privateKey,
        newRecipientKey: expiring,
      })),
    ).toBe('string');
    // Only Date is faked: WebCrypto and the promise machinery run as usual.
    jest.useFakeTimers({
      doNotFake: [
        'hrtime',
        'nextTick',
        'performance',
        'queueMicrotask',
        'setImmediate',
        'clearImmediate',
        'setInterval',
        'clearInterval',
        'setTimeout',
        'clearTimeout',
      ],
    });
    try {
      // Five minutes on: within the cache's 10-minute reuse window, past the key's expiry.
      jest.setSystemTime(Date.now() + 5 * 60 * 1000);
      expect(
        await codeOf(
          createRecipientPacket({ message, myKey: patient.privateKey, newRecipientKey: expiring }),
        ),
      ).toBe('key-expired');
    } finally {
      jest.useRealTimers();
    }
  });

  it("when the sharer's session key packet uses partial body lengths, then not-a-message (RFC 9580 allows them only for data packets)", async () => {
    const message = await openpgp.encrypt({
      message: await openpgp.createMessage({ binary: new Uint8Array([1, 2, 3]) }),
      encryptionKeys: await openpgp.readKey({ armoredKey: patient.publicKey }),
      format: 'binary',
      config: MESSAGE_CONFIG,
    });
    // Re-frame the PKESK (new-format header 0xc1, one length byte) as a 512-byte partial chunk
    // plus an empty last chunk; the trailing zeros are junk the packet parser never reaches.
    expect(message[0]).toBe(0xc1);
    const bodyLength = message[1] ?? 0;
    expect(bodyLength).toBeLessThan(192);
    const body = new Uint8Array(512);
    body.set(message.subarray(2, 2 + bodyLength));
    const reframed = new Uint8Array([0xc1, 0xe9, ...body, 0, ...message.subarray(2 + bodyLength)]);
    expect(
      await codeOf(
        createRecipientPacket({
          message: reframed,
          myKey: patient.privateKey,
          newRecipientKey: doctor.publicKey,
        }),
      ),
    ).toBe('not-a-message');
  });

  it('when the message is used again after sharing, then it is unchanged (no blanked packets)', async () => {
    const { message } = await sealRecord({
      envelope,
      authorKey: patient.privateKey,
      recipientKeys: [patient.publicKey],
    });
    const before = message.slice();
    await createRecipientPacket({
      message,
      myKey: patient.privateKey,
      newRecipientKey: doctor.publicKey,
    });
    await createRecipientPacket({
      message,
      myKey: patient.privateKey,
      newRecipientKey: specialist.publicKey,
    });
    expect(message).toBe(before);
  });
});
