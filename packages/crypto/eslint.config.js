import { medseal } from '@medseal/eslint-config';

// The one package allowed to import openpgp (STYLE.md §1).
export default medseal({ allowOpenpgp: true });
