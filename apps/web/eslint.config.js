import { medseal } from '@medseal/eslint-config';

export default medseal({ react: true, configFiles: ['src/config.ts', 'vite.config.ts'] });
