// Issue 10 property "readers = packets" (DESIGN §12): the operator hides a reader — the list
// entry and the grant deleted — while the stored message keeps that reader's session key
// packet. The list and the envelope still agree, so only the packets tell.
import {
  addRecipientPacket,
  createGrant,
  createRecipientPacket,
  openRecord,
  readPublicKey,
  recipientKeyIdOf,
  sealRecord,
  splitRecipientPackets,
  type Fingerprint,
  type UserId,
} from '../../src';
import { fromBase64Url } from '../../src/encoding';
import { armorMessage, dearmor } from '../../src/inspect/armor';
import { makeUser, sampleEnvelope } from '../helpers';

describe('security: a reader hidden from the readers list', () => {
  it('when the message is still encrypted to a reader the list no longer names, then packets mismatch; with the reader listed and granted, it verifies', async () => {
    const [owner, dana, mallory] = await Promise.all([
      makeUser('Owner'),
      makeUser('Dana'),
      makeUser('Mallory'),
    ]);
    const envelope = {
      ...sampleEnvelope,
      ownerId: 'u-owner' as UserId,
      authorId: 'u-owner' as UserId,
    };
    const sealed = await sealRecord({
      envelope,
      authorKey: owner.privateKey,
      recipientKeys: [owner.publicKey, dana.publicKey],
    });
    // The owner shared with Mallory: one packet spliced in, one signed grant.
    const packet = await createRecipientPacket({
      message: sealed.message,
      myKey: owner.privateKey,
      newRecipientKey: mallory.publicKey,
    });
    const shared = await addRecipientPacket(sealed.message, packet);
    const { signedGrant } = await createGrant({
      grant: {
        recordId: envelope.recordId,
        granteeUserId: 'u-mallory' as UserId,
        granteeFingerprint: mallory.fingerprint as Fingerprint,
        grantedBy: envelope.ownerId,
      },
      signerKey: owner.privateKey,
    });
    const base = {
      ...envelope,
      authorPublicKey: owner.publicKey,
      authorFingerprint: owner.fingerprint,
      ownerFingerprint: owner.fingerprint,
      readerKeys: [owner.publicKey, dana.publicKey, mallory.publicKey],
    };
    const listed = await openRecord({
      message: shared,
      myKey: dana.privateKey,
      expect: {
        ...base,
        recipients: [...sealed.envelope.recipients, mallory.fingerprint],
        grants: [{ signedGrant, signerPublicKey: owner.publicKey }],
      },
    });
    expect(listed.status).toBe('verified');
    // Hidden: no grant, not listed, packet kept.
    const hidden = await openRecord({
      message: shared,
      myKey: dana.privateKey,
      expect: { ...base, recipients: sealed.envelope.recipients },
    });
    expect(hidden).toEqual({ status: 'context-mismatch', mismatches: ['packets'] });
    // Also when the reader's key is not known to the one opening: a packet nothing explains.
    const unknown = await openRecord({
      message: shared,
      myKey: dana.privateKey,
      expect: {
        ...base,
        readerKeys: [owner.publicKey, dana.publicKey],
        recipients: sealed.envelope.recipients,
      },
    });
    expect(unknown).toEqual({ status: 'context-mismatch', mismatches: ['packets'] });
  });

  it('when the server takes a listed reader’s packet out of the message, then packets mismatch', async () => {
    const [owner, dana] = await Promise.all([makeUser('Owner'), makeUser('Dana')]);
    const envelope = {
      ...sampleEnvelope,
      ownerId: 'u-owner' as UserId,
      authorId: 'u-owner' as UserId,
    };
    const both = await sealRecord({
      envelope,
      authorKey: owner.privateKey,
      recipientKeys: [owner.publicKey, dana.publicKey],
    });
    // The server's own split of the stored message, put back together without Dana's packet.
    const armored = dearmor(both.message);
    if (!armored.ok) throw new Error('not armored');
    const { packets, body } = splitRecipientPackets(armored.bytes);
    const danaKeyIds = (await readPublicKey(dana.publicKey)).encryptionKeyIds;
    const kept = packets
      .filter((p) => !danaKeyIds.includes(recipientKeyIdOf(p)))
      .map((p) => fromBase64Url(p) ?? new Uint8Array());
    expect(kept).toHaveLength(1);
    const withoutDana = armorMessage(new Uint8Array([...kept.flatMap((p) => [...p]), ...body]));
    const expect_ = {
      ...envelope,
      authorPublicKey: owner.publicKey,
      authorFingerprint: owner.fingerprint,
      recipients: both.envelope.recipients,
      readerKeys: [owner.publicKey, dana.publicKey],
    };
    expect(
      (await openRecord({ message: both.message, myKey: owner.privateKey, expect: expect_ }))
        .status,
    ).toBe('verified');
    expect(
      await openRecord({ message: withoutDana, myKey: owner.privateKey, expect: expect_ }),
    ).toEqual({ status: 'context-mismatch', mismatches: ['packets'] });
  });
});
