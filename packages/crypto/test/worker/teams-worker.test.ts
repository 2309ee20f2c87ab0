// Care teams through the worker face (comlink over a real MessageChannel): the team key is made,
// wrapped and unwrapped inside the worker, and the UI thread only ever holds handles, public
// keys, signed statements and encrypted envelopes.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { type Endpoint } from 'comlink';
import * as openpgp from 'openpgp';
import { checkEncryptedTo, type RecordId, type UserId } from '../../src';
import { exposeCryptoWorker } from '../../src/worker';
import { wrapCryptoWorker } from '../../src/worker/client';

describe('worker face: care teams', () => {
  it('when an admin creates a team and a member unwraps its key, then the member opens a record by handle and no private key crosses', async () => {
    const { port1, port2 } = new MessageChannel();
    const posted: string[] = [];
    const original = port1.postMessage.bind(port1);
    (port1 as MessagePort & { postMessage: (m: unknown, t?: unknown) => void }).postMessage = (
      message: unknown,
      transfer?: unknown,
    ) => {
      posted.push(JSON.stringify(message));
      original(message as never, transfer as never);
    };
    exposeCryptoWorker(port1 as unknown as Endpoint);
    const api = wrapCryptoWorker(port2 as unknown as Endpoint);
    try {
      const admin = await api.generateUserKey({ name: 'Admin', email: 'admin@example.org' });
      const member = await api.generateUserKey({ name: 'Member', email: 'member@example.org' });
      const team = await api.generateTeamKey();
      const adminId = 'u-admin' as UserId;
      const created = await api.signTeamStatement({
        state: null,
        teamId: 'team-w',
        change: {
          type: 'create',
          practiceId: 'p-1',
          practiceName: 'Practice',
          name: 'Team',
          founder: { userId: adminId, fingerprint: admin.fingerprint, role: 'doctor', admin: true },
          teamKey: team.ref,
        },
        signerId: adminId,
        keyHandle: admin.handle,
      });
      const added = await api.signTeamStatement({
        state: created.state,
        change: {
          type: 'add',
          member: {
            userId: 'u-member' as UserId,
            fingerprint: member.fingerprint,
            role: 'nurse',
            admin: false,
          },
        },
        signerId: adminId,
        keyHandle: admin.handle,
      });
      const replayed = await api.replayTeamLog({
        teamId: 'team-w',
        statements: [created.signed, added.signed],
        publicKeys: [admin.publicKey],
      });
      if (replayed.status !== 'verified') throw new Error(replayed.status);
      const current = await api.currentTeamKey(replayed.state);
      const context = { teamId: 'team-w', gen: current.gen, memberId: 'u-member' };
      const envelope = await api.wrapTeamKey({
        teamKeyHandle: team.handle,
        context,
        memberPublicKey: member.publicKey,
      });
      await checkEncryptedTo(envelope, [member.publicKey], { maxBytes: 16 * 1024 });
      const unwrapped = await api.unwrapTeamKey({
        message: envelope,
        keyHandle: member.handle,
        context,
        expected: current,
      });
      expect(unwrapped.handle).toMatch(/^key_/);
      expect(unwrapped.fingerprint).toBe(team.fingerprint);

      const envelopeIn = {
        recordId: 'r-w' as RecordId,
        version: 1,
        ownerId: 'u-p' as UserId,
        authorId: adminId,
        createdAt: new Date().toISOString(),
        content: { t: 'for the team' },
      };
      const sealed = await api.sealRecord({
        envelope: envelopeIn,
        keyHandle: admin.handle,
        recipientKeys: [admin.publicKey, team.publicKey],
      });
      const opened = await api.openRecord({
        message: sealed.message,
        keyHandle: unwrapped.handle,
        expect: {
          ...envelopeIn,
          authorPublicKey: admin.publicKey,
          recipients: sealed.envelope.recipients,
        },
      });
      expect(opened.status).toBe('verified');
      expect(
        await api.attestationOf(replayed.state, {
          userId: 'u-member',
          fingerprint: member.fingerprint,
        }),
      ).toMatchObject({ role: 'nurse', signedBy: adminId });

      expect(posted.length).toBeGreaterThan(5);
      expect(posted.some((m) => m.includes('PRIVATE KEY'))).toBe(false);
      // The team key's secret scalars never crossed, in any encoding the UI thread could get.
      const before = [...posted];
      const exported = await api.exportPrivateKey({
        keyHandle: team.handle,
        passphrase: 'export passphrase',
      });
      const secretKey = await openpgp.decryptKey({
        privateKey: await openpgp.readPrivateKey({ armoredKey: exported }),
        passphrase: 'export passphrase',
      });
      const scalars = secretKey
        .getKeys()
        .flatMap((k) =>
          Object.values(
            (k.keyPacket as unknown as { privateParams: Record<string, Uint8Array> }).privateParams,
          ),
        );
      expect(scalars).toHaveLength(2);
      for (const scalar of scalars) {
        const forms = [
          Buffer.from(scalar).toString('base64url'),
          Buffer.from(scalar).toString('base64'),
          Buffer.from(scalar).toString('hex'),
          JSON.stringify(Array.from(scalar.subarray(0, 8))).slice(1, -1),
        ];
        for (const form of forms) expect(before.some((m) => m.includes(form))).toBe(false);
      }
    } finally {
      port1.close();
      port2.close();
    }
  });
});
