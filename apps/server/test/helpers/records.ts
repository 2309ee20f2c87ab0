import { createGrant, createRecipientPacket, sealRecord } from '@medseal/crypto';
import type { Fingerprint, RecordId, UserId } from '@medseal/crypto';
import { recordSchema, type RecordDto } from '@medseal/contract';
import { newRecordId, type TestUser } from './users';

export const recipientsOf = (...users: TestUser[]) =>
  users.map((u) => ({ userId: u.id, fingerprint: u.fingerprint }));

/** A record message sealed in-process by the crypto package, as the web app makes it. */
export async function sealFor(input: {
  recordId: string;
  version: number;
  owner: TestUser;
  author: TestUser;
  readers: TestUser[];
  teamKeys?: string[];
  content?: Record<string, string>;
}): Promise<string> {
  const { message } = await sealRecord({
    envelope: {
      recordId: input.recordId as RecordId,
      version: input.version,
      ownerId: input.owner.id as UserId,
      authorId: input.author.id as UserId,
      createdAt: new Date().toISOString(),
      content: input.content ?? { kind: 'note', title: 'Blood pressure', body: '120/80' },
    },
    authorKey: input.author.key.privateKey,
    recipientKeys: [...input.readers.map((u) => u.publicKey), ...(input.teamKeys ?? [])],
  });
  return message;
}

/** The body a client sends to create a record (version 1, a new client-made id). */
export async function createBody(author: TestUser, owner: TestUser, readers: TestUser[]) {
  const recordId = newRecordId();
  return {
    recordId,
    ownerId: owner.id,
    recipients: recipientsOf(...readers),
    message: await sealFor({ recordId, version: 1, owner, author, readers }),
  };
}

/** Creates a record through the API; throws unless 201. */
export async function createRecordAs(
  author: TestUser,
  owner: TestUser,
  readers: TestUser[],
): Promise<RecordDto> {
  const res = await author.api.post('/records', await createBody(author, owner, readers));
  if (res.status !== 201)
    throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return recordSchema.parse(res.body);
}

/** The body a sharer's client sends to share `record` with `grantee`. */
export async function grantBody(
  sharer: TestUser,
  grantee: TestUser,
  record: { id: string; message: string },
  options: { expiresAt?: Date } = {},
) {
  const pkesk = await createRecipientPacket({
    message: record.message,
    myKey: sharer.key.privateKey,
    newRecipientKey: grantee.publicKey,
  });
  const { signedGrant } = await createGrant({
    grant: {
      recordId: record.id as RecordId,
      granteeUserId: grantee.id as UserId,
      granteeFingerprint: grantee.fingerprint as Fingerprint,
      grantedBy: sharer.id as UserId,
      ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}),
    },
    signerKey: sharer.key.privateKey,
  });
  return { granteeUserId: grantee.id, signedGrant, pkesk };
}

/** Shares through the API; throws unless 201. */
export async function share(
  sharer: TestUser,
  grantee: TestUser,
  record: { id: string; message: string },
): Promise<void> {
  const res = await sharer.api.post(
    `/records/${record.id}/grants`,
    await grantBody(sharer, grantee, record),
  );
  if (res.status !== 201)
    throw new Error(`share failed: ${res.status} ${JSON.stringify(res.body)}`);
}
