// The crypto Web Worker (DESIGN §4): unlocked keys live only here; the UI holds handles.
import { exposeCryptoWorker } from '@medseal/crypto/worker';

exposeCryptoWorker();
