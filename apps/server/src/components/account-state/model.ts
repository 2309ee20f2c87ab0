import { Schema, type Connection } from 'mongoose';
import { modelOn } from '../../lib/model';
import type { SelfBlobDoc } from '../../lib/self-blobs';

/** A user's account state (DESIGN §12): a binary OpenPGP message to and from the user, opaque here. */
export type AccountStateDoc = SelfBlobDoc<Buffer>;

const accountStateSchema = new Schema<AccountStateDoc>(
  {
    _id: { type: String, required: true },
    version: { type: Number, required: true },
    blob: { type: Buffer, required: true },
    updatedAt: { type: Date, required: true },
  },
  { versionKey: false, strict: 'throw' },
);

export const accountStateModel = (c: Connection) =>
  modelOn(c, 'AccountState', accountStateSchema, 'account_states');
