import { isDuplicateKey } from '../../lib/db';
import { applyStatement, type TeamState } from '../../lib/pgp';
import type { Services } from '../../services';
import { nameKeys } from './lists';
import {
  statementId,
  type TeamDoc,
  type TeamHeadDoc,
  type TeamKeyDoc,
  type TeamStatementDoc,
} from './model';

/**
 * Brings a team's document up to its statements and returns it (null: no such team). Inserting
 * statement `seq` under its unique `_id` is the one atomic step of every team change (DESIGN §9:
 * no transactions); the team document and the lists of teams (lists.ts) are then made to say what the
 * statements say. Whoever reads a team first settles it, so a process that died between the
 * insert and the projection leaves nothing half-done for long, and an access check never acts
 * on a membership a stored statement has already ended.
 */
export async function settleTeam(s: Services, teamId: string): Promise<TeamDoc | null> {
  let team = await s.models.teams.findById(teamId).lean<TeamDoc>();
  for (;;) {
    const next = await s.models.teamStatements
      .findById(statementId(teamId, team ? team.state.seq + 1 : 0))
      .lean();
    if (!next) return team;
    team = await project(s, team, next);
  }
}

/**
 * The team's head (model.ts `TeamHeadDoc`): what a share with the team is checked against, read
 * by `_id` whatever the team's size (DESIGN §9). Fails closed like `settleTeam`: a head with a
 * statement stored past it (a change committed and not yet projected, a head another process
 * wrote late, or none yet: a team projected before heads existed) is brought up by settling the
 * team. Null when there is no such team or its current key is not stored (never acted on).
 */
export async function teamHead(s: Services, teamId: string): Promise<TeamHeadDoc | null> {
  const head = await s.models.teamHeads.findById(teamId).lean<TeamHeadDoc>();
  if (
    head &&
    !(await s.models.teamStatements.findById(statementId(teamId, head.seq + 1), { _id: 1 }).lean())
  )
    return head;
  const team = await settleTeam(s, teamId);
  return team && storeHead(s, team);
}

/**
 * Writes the head of a settled team unless a later one is stored (racing projections: the one
 * of the higher seq stays; one that loses anyway is caught by `teamHead`'s check). Returns it,
 * or null when the team's current key is not stored.
 */
async function storeHead(s: Services, team: TeamDoc): Promise<TeamHeadDoc | null> {
  const { state } = team;
  const current = state.keys[state.keys.length - 1];
  const key = team.keys.find(
    (k) => k.gen === current?.gen && k.fingerprint === current.fingerprint,
  );
  if (!key) return null;
  const head: TeamHeadDoc = {
    _id: team._id,
    seq: state.seq,
    genesis: state.genesis,
    name: state.name,
    practiceName: state.practiceName,
    key: { gen: key.gen, fingerprint: key.fingerprint, publicKey: key.publicKey },
    updatedAt: new Date(),
  };
  try {
    await s.models.teamHeads.replaceOne({ _id: head._id, seq: { $lt: head.seq } }, head, {
      upsert: true,
    });
  } catch (error) {
    // A head at this seq or later is stored: it stays.
    if (!isDuplicateKey(error)) throw error;
  }
  return head;
}

/**
 * Applies one stored statement to the team document and the lists. Stored statements were
 * checked before their insert; they are checked again here (same rules, the signer's stored key),
 * so a document edited in the database is refused instead of projected.
 */
async function project(s: Services, team: TeamDoc | null, doc: TeamStatementDoc): Promise<TeamDoc> {
  const signer = await s.userKeys.of(doc.by);
  if (!signer)
    throw new Error(`team ${doc.teamId}: the signer of statement ${doc.seq} has no account`);
  // A stored statement that no longer verifies was changed in the database: refuse to serve the
  // team at all (500), rather than act on it or on the state before it.
  const { state } = await applyStatement({
    state: team?.state ?? null,
    signed: doc.signed,
    signerPublicKey: signer.publicKey,
    teamId: doc.teamId,
  }).catch((cause: unknown) => {
    throw new Error(`team ${doc.teamId}: stored statement ${doc.seq} does not verify`, { cause });
  });
  const keys = withNewKey(team?.keys ?? [], state, doc);
  // The lists first (lists.ts): a team document at seq n then means every member added up to n
  // has the team in her list, and a crash in between only makes the next reader add them again.
  const was = new Set(team?.state.members.map((m) => m.userId) ?? []);
  const lists = s.teamLists;
  await Promise.all([
    lists.joins.add(
      state.members.flatMap((m) => (was.has(m.userId) ? [] : [m.userId])),
      doc.teamId,
    ),
    team ? undefined : lists.names.add(nameKeys(state.name.toLowerCase()), doc.teamId),
    team ? undefined : lists.practiceTeams.add([state.practiceId], doc.teamId),
  ]);
  const now = new Date();
  let projected: TeamDoc;
  if (!team) {
    projected = {
      _id: doc.teamId,
      practiceId: state.practiceId,
      nameLower: state.name.toLowerCase(),
      state,
      keys,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await s.models.teams.create(projected);
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      // Another request projected it first; carry on from its document.
      const other = await s.models.teams.findById(doc.teamId).lean<TeamDoc>();
      if (other) projected = other;
    }
  } else {
    // Racing projections of the same statement write the same thing; the filter keeps a slow one
    // from putting back an older state.
    await s.models.teams.updateOne(
      { _id: team._id, 'state.seq': team.state.seq },
      { $set: { state, keys, updatedAt: now } },
    );
    projected = { ...team, state, keys, updatedAt: now };
  }
  // The head last: it says no more than the team document does.
  await storeHead(s, projected);
  return projected;
}

function withNewKey(keys: TeamKeyDoc[], state: TeamState, doc: TeamStatementDoc): TeamKeyDoc[] {
  const current = state.keys[state.keys.length - 1];
  if (!current || keys.some((k) => k.gen === current.gen)) return keys;
  if (!doc.teamPublicKey)
    throw new Error(`team ${doc.teamId}: statement ${doc.seq} names a new key but none is stored`);
  return [
    ...keys,
    { gen: current.gen, fingerprint: current.fingerprint, publicKey: doc.teamPublicKey },
  ];
}
