import { medseal } from '@medseal/eslint-config';

export default medseal({ react: true, configFiles: ['src/env.ts', 'vite.config.ts'] });
