// Prints the public key of the key-transparency log this server signs with (DESIGN §14), for
// the web build (`VITE_MEDSEAL_KT_LOG_KEY`) and auditors: `pnpm --filter @medseal/server
// kt:log-key`. MEDSEAL_KT_LOG_KEY when set, else the embedded mode's secrets file (made when
// there is none yet), so a build and `pnpm start` on one machine agree. Prints only the
// public key.
import { logPublicKeyOf } from '../src/lib/pgp';
import { loadConfig } from '../src/lib/config';
import { ktLogKeyForBuild } from '../src/lib/secrets';

const logKey = await ktLogKeyForBuild(loadConfig(), (file) =>
  console.error(`moved secrets.json out of the data folder to ${file}`),
);
console.log(logPublicKeyOf(logKey));
