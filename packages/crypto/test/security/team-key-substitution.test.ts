// Attack: the server hands out another key as the team's (DESIGN §13): a key of its own as the
// team public key a patient encrypts to, the team's key with a subkey it added, or a key
// envelope holding a key of its own, so that a member's reads or a patient's shares go through
// a key the server holds. Statements name each team key by fingerprint and by the hash of the
// whole public key, and both checks refuse anything else.
import * as openpgp from 'openpgp';
import { checkTeamPublicKey, generateTeamKey, unwrapTeamKey, wrapTeamKey } from '../../src';
import { person } from '../team-helpers';

describe('attack: team key substitution', () => {
  it('when the team public key carries an extra subkey under the same primary, then team-key-mismatch', async () => {
    const team = await generateTeamKey();
    const widened = await team.privateKey.key.addSubkey({ type: 'ecc', curve: 'curve25519Legacy' });
    const publicKey = widened.toPublic().armor();
    expect(widened.getFingerprint()).toBe(team.ref.fingerprint);
    await expect(checkTeamPublicKey({ publicKey, expected: team.ref })).rejects.toMatchObject({
      code: 'team-key-mismatch',
    });
  });

  it('when the key envelope holds a key the server made, then team-key-mismatch and no handle', async () => {
    const member = await person('Member');
    const [team, serverKey] = await Promise.all([generateTeamKey(), generateTeamKey()]);
    const context = { teamId: 'team-x', gen: 1, memberId: member.id };
    const envelope = await wrapTeamKey({
      teamKey: serverKey.privateKey,
      context,
      memberPublicKey: member.key.publicKey,
    });
    await expect(
      unwrapTeamKey({
        message: envelope,
        myKey: member.key.privateKey,
        context,
        expected: team.ref,
      }),
    ).rejects.toMatchObject({ code: 'team-key-mismatch' });
  });

  it('when the envelope is not encrypted (a literal message), then decryption-failed', async () => {
    const member = await person('Member');
    const team = await generateTeamKey();
    const literal = await openpgp.encrypt({
      message: await openpgp.createMessage({ text: 'x' }),
      passwords: ['p'],
      format: 'armored',
    });
    await expect(
      unwrapTeamKey({
        message: literal,
        myKey: member.key.privateKey,
        context: { teamId: 't', gen: 1, memberId: member.id },
        expected: team.ref,
      }),
    ).rejects.toMatchObject({ code: 'decryption-failed' });
  });
});
