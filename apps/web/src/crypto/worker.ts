// The crypto Web Worker (DESIGN §4): unlocked keys live only here; the UI holds handles. The
// transparency log key comes from the build (config.ts), never from the UI thread or the server.
import { exposeCryptoWorker } from '@medseal/crypto/worker';
import { config } from '../config';

exposeCryptoWorker(undefined, { ktLogPublicKey: config.ktLogPublicKey });
