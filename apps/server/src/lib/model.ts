import type { Connection, Model, Schema } from 'mongoose';

/** The connection's model `name`, created on first use (one connection per app). */
export function modelOn<T>(
  connection: Connection,
  name: string,
  schema: Schema<T>,
  collection: string,
): Model<T> {
  return (
    (connection.models[name] as Model<T> | undefined) ??
    connection.model<T>(name, schema, collection)
  );
}
