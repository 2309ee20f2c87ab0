import { medseal } from '@medseal/eslint-config';

export default medseal();
