import { Schema, type Connection } from 'mongoose';
import { modelOn } from '../../lib/model';

/** A user's pinned-contacts list: encrypted to and signed by the user, opaque here. */
export interface ContactsDoc {
  _id: string; // the user id
  version: number;
  blob: string;
  updatedAt: Date;
}

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
