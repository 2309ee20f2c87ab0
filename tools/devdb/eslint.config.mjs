import { medseal } from '@medseal/eslint-config';

// devdb is a tool: it reads MONGODB_URI, PATH and its own settings straight from the environment.
// `.bin/` holds the FerretDB build (its source tree while a test builds it): not ours to lint.
export default medseal({ configFiles: ['src/**'], ignores: ['.bin/**'] });
