import { medseal } from '@medseal/eslint-config';

// devdb is a tool: it reads MONGODB_URI, PATH and its own settings straight from the environment.
export default medseal({ configFiles: ['src/**'] });
