// Attack: a small message that decompresses to far more than memory allows (here 256 MiB of zeros
// in ~260 KiB), made by another tool; bounded by maxDecompressedMessageSize (64 MiB).
import { openFile } from '../../src';
import { binaryFixture, fixture, goodKey } from '../helpers';

describe('attack: compression bomb', () => {
  it('when a compressed message expands beyond the limit, then it is refused (too-large) without the data', async () => {
    const bomb = binaryFixture('bomb-to-good.gpg');
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const result = await openFile({
      message: bomb,
      myKey: await goodKey(),
      authorPublicKey: fixture('good.pub.asc'),
    });
    expect(result).toEqual({ status: 'bad-signature', reason: 'too-large' });
    const streamed = await openFile({
      message: bomb,
      myKey: await goodKey(),
      authorPublicKey: fixture('good.pub.asc'),
      onProgress: () => undefined,
    });
    expect(streamed).toEqual({ status: 'bad-signature', reason: 'too-large' });
  });
});
