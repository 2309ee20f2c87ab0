import { Schema, type Connection } from 'mongoose';
import { modelOn } from '../../lib/model';
import type { SelfBlobDoc } from '../../lib/self-blobs';

/** A user's pinned-contacts list (armored): encrypted to and signed by the user, opaque here. */
export type ContactsDoc = SelfBlobDoc<string>;

const contactsSchema = new Schema<ContactsDoc>(
  {
    _id: { type: String, required: true },
    version: { type: Number, required: true },
    blob: { type: String, required: true },
    updatedAt: { type: Date, required: true },
  },
  { versionKey: false, strict: 'throw' },
);

export const contactsModel = (c: Connection) => modelOn(c, 'Contacts', contactsSchema, 'contacts');
