import { medseal } from '@medseal/eslint-config';

export default medseal({ configFiles: ['src/lib/config.ts'] });
