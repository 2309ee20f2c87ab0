// Attack (issue 10 class 1): the server serves another record's file packets under this record's
// file id, so a sharer who re-wraps whatever session key it is given hands the grantee the key
// of a file they were never meant to read. The signed record content commits to each file's
// session key; the sharer checks the commitment before encrypting anything.
import {
  commitFileKey,
  createRecipientPacket,
  createSessionKey,
  openFile,
  recipientPackets,
  sealFile,
} from '../../src';
import { codeOf, makeUser } from '../helpers';

describe('attack: attachment key swap', () => {
  it('when the packets served for a file carry another file’s session key, then sharing refuses with key-commitment-mismatch', async () => {
    const [patient, grantee] = await Promise.all([makeUser('Patient'), makeUser('Grantee')]);
    const ownKey = createSessionKey();
    const secretKey = createSessionKey();
    const [own, secret] = await Promise.all([
      sealFile({
        data: new Uint8Array([1, 2, 3]),
        authorKey: patient.privateKey,
        recipientKeys: [patient.publicKey],
        sessionKey: ownKey,
      }),
      sealFile({
        data: new Uint8Array([4, 5, 6]),
        authorKey: patient.privateKey,
        recipientKeys: [patient.publicKey],
        sessionKey: secretKey,
      }),
    ]);
    // What the signed content of the shared record says about its own file.
    const expectKeyCommitment = {
      fileId: 'file-own',
      commitment: await commitFileKey({ fileId: 'file-own', sessionKey: ownKey }),
    };

    const swapped = recipientPackets(secret.message);
    const code = await codeOf(
      createRecipientPacket({
        recipientPackets: swapped,
        myKey: patient.privateKey,
        newRecipientKey: grantee.publicKey,
        expectKeyCommitment,
      }),
    );
    expect(code).toBe('key-commitment-mismatch');

    // The honest packets pass, and the packet made from them opens the file for the grantee.
    const packet = await createRecipientPacket({
      recipientPackets: recipientPackets(own.message),
      myKey: patient.privateKey,
      newRecipientKey: grantee.publicKey,
      expectKeyCommitment,
    });
    expect(typeof packet).toBe('string');
  });

  it('when a commitment names another file id, then the same session key does not match it', async () => {
    const key = createSessionKey();
    expect(await commitFileKey({ fileId: 'a', sessionKey: key })).not.toBe(
      await commitFileKey({ fileId: 'b', sessionKey: key }),
    );
    expect(await commitFileKey({ fileId: 'a', sessionKey: key })).toBe(
      await commitFileKey({ fileId: 'a', sessionKey: key }),
    );
    expect(await commitFileKey({ fileId: 'a', sessionKey: createSessionKey() })).not.toBe(
      await commitFileKey({ fileId: 'a', sessionKey: key }),
    );
  });

  it('when the file is sealed under the committed key, then it still opens (commitment and file agree)', async () => {
    const patient = await makeUser('Patient');
    const sessionKey = createSessionKey();
    const sealed = await sealFile({
      data: new Uint8Array([9]),
      authorKey: patient.privateKey,
      recipientKeys: [patient.publicKey],
      sessionKey,
    });
    const opened = await openFile({
      message: sealed.message,
      myKey: patient.privateKey,
      authorPublicKey: patient.publicKey,
      expectSha256: sealed.sha256,
    });
    expect(opened.status).toBe('verified');
  });
});
