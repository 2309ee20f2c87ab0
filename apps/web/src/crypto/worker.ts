// The crypto Web Worker (DESIGN §4): unlocked keys live only here; the UI holds handles. The
// transparency log key comes from the build (env.ts), never from the UI thread or the server.
import { exposeCryptoWorker } from '@medseal/crypto/worker';
import { ktLogPublicKey } from '../env';

exposeCryptoWorker(undefined, { ktLogPublicKey });
