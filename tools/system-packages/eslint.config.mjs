import { medseal } from '@medseal/eslint-config';

// A tool: it reads PATH and CHROMIUM_PATH straight from the environment.
export default medseal({ configFiles: ['src/**'] });
