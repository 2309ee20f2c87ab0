// Attack: a message whose data is in a Symmetrically Encrypted Data packet (no MDC), open to
// malleability (EFAIL-style) attacks.
import { checkEncryptedTo, openFile, openRecord } from '../../src';
import { dearmor } from '../../src/inspect/armor';
import { fixture, goodKey, sampleEnvelope } from '../helpers';

describe('attack: SED packet (no integrity protection)', () => {
  it('when the server is offered an SED message, then no-integrity', async () => {
    await expect(
      checkEncryptedTo(fixture('sed-to-good.asc'), [fixture('good.pub.asc')], {
        maxBytes: 1 << 20,
      }),
    ).rejects.toMatchObject({ code: 'no-integrity' });
  });

  it('when a client is handed an SED record or attachment for its key, then it refuses before decrypting', async () => {
    const good = await goodKey();
    const expectation = {
      ...sampleEnvelope,
      authorPublicKey: fixture('good.pub.asc'),
      recipients: [good.fingerprint],
    };
    expect(
      await openRecord({ message: fixture('sed-to-good.asc'), myKey: good, expect: expectation }),
    ).toEqual({ status: 'bad-signature', reason: 'no-integrity' });
    const binary = dearmor(fixture('sed-to-good.asc'));
    if (!binary.ok) throw new Error('fixture is not armored');
    expect(
      await openFile({
        message: binary.bytes,
        myKey: good,
        authorPublicKey: fixture('good.pub.asc'),
      }),
    ).toEqual({ status: 'bad-signature', reason: 'no-integrity' });
  });
});
