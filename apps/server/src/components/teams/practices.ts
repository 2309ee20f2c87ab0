import type { CreatePracticeRequest, PracticeDto, PracticeListResponse } from '@medseal/contract';
import { withClaim } from '../../lib/claims';
import { AppError } from '../../lib/errors';
import { newId } from '../../lib/ids';
import { findByIds } from '../../lib/store';
import type { Services } from '../../services';
import type { PracticeDoc } from './model';

/**
 * Practices group teams. Being a practice admin means only "may create teams here": it gives no
 * one any key or any record, and a team's own admins are named in its signed statements, so the
 * practice's admin list is the server's to keep (docs/care-teams.md).
 */

const practiceNotFound = () =>
  new AppError({ status: 404, code: 'practice-not-found', message: 'No such practice.' });
const doctorsOnly = () =>
  new AppError({ status: 403, code: 'doctors-only', message: 'Only doctors run practices.' });

async function toPracticeDto(s: Services, p: PracticeDoc): Promise<PracticeDto> {
  const [admins, teams] = await Promise.all([
    Promise.all(
      p.adminIds.map((id) => s.models.users.findById(id, { name: 1, fingerprint: 1 }).lean()),
    ),
    s.teamLists.practiceTeams.idsOf(p._id).then(async (ids) => {
      const found = await findByIds(s.models.teams, ids, ['practiceId', 'state']);
      return ids.flatMap((id) => {
        const t = found.get(id);
        return t?.practiceId === p._id ? [{ id: t._id, name: t.state.name }] : [];
      });
    }),
  ]);
  return {
    id: p._id,
    name: p.name,
    admins: admins.flatMap((u) =>
      u ? [{ userId: u._id, name: u.name, fingerprint: u.fingerprint }] : [],
    ),
    teams,
  };
}

/** @throws AppError 403 `doctors-only`. */
export async function createPractice(
  s: Services,
  userId: string,
  body: CreatePracticeRequest,
): Promise<PracticeDto> {
  const user = await s.models.users.findById(userId, { role: 1 }).lean();
  if (user?.role !== 'doctor') throw doctorsOnly();
  const practice: PracticeDoc = {
    _id: newId(),
    name: body.name,
    adminIds: [userId],
    createdBy: userId,
    createdAt: new Date(),
    rev: 0,
  };
  // Listed first: a practice stored but not listed would be lost to its admin.
  await s.teamLists.practiceAdmins.add([userId], practice._id);
  await s.models.practices.create(practice);
  return toPracticeDto(s, practice);
}

export async function listPractices(s: Services, userId: string): Promise<PracticeListResponse> {
  const ids = await s.teamLists.practiceAdmins.idsOf(userId);
  const found = await findByIds(s.models.practices, ids);
  const mine = ids.flatMap((id) => {
    const p = found.get(id);
    return p?.adminIds.includes(userId) ? [p] : [];
  });
  return { practices: await Promise.all(mine.map((p) => toPracticeDto(s, p))) };
}

/** The practice when `userId` administers it; anyone else learns nothing about it. @throws 404 `practice-not-found`. */
export async function practiceAdministeredBy(
  s: Services,
  practiceId: string,
  userId: string,
): Promise<PracticeDoc> {
  const practice = await s.models.practices.findById(practiceId).lean();
  if (!practice?.adminIds.includes(userId)) throw practiceNotFound();
  return practice;
}

/** Compare-and-set of the admin list under a claim (lib/claims.ts), retried when another change won. */
async function changeAdmins(
  s: Services,
  practiceId: string,
  actorId: string,
  change: (adminIds: string[]) => string[],
): Promise<PracticeDoc> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const practice = await practiceAdministeredBy(s, practiceId, actorId);
    const adminIds = change(practice.adminIds);
    const unchanged = async () =>
      (await s.models.practices.findById(practiceId, { rev: 1 }).lean())?.rev === practice.rev;
    const result = await withClaim(s, `practice:${practiceId}:${practice.rev + 1}`, unchanged, () =>
      s.models.practices.updateOne(
        { _id: practiceId, rev: practice.rev },
        { $set: { adminIds }, $inc: { rev: 1 } },
      ),
    );
    if (result?.matchedCount === 1) return { ...practice, adminIds, rev: practice.rev + 1 };
  }
  throw new AppError({
    status: 409,
    code: 'version-conflict',
    message: 'The practice keeps changing; try again.',
  });
}

/** @throws AppError 404 `practice-not-found`, `user-not-found`; 403 `doctors-only`; 409 `already-admin`. */
export async function addPracticeAdmin(
  s: Services,
  practiceId: string,
  actorId: string,
  userId: string,
): Promise<PracticeDto> {
  await practiceAdministeredBy(s, practiceId, actorId);
  const user = await s.models.users.findById(userId, { role: 1 }).lean();
  if (!user) throw new AppError({ status: 404, code: 'user-not-found', message: 'No such user.' });
  if (user.role !== 'doctor') throw doctorsOnly();
  // Listed first, as at creation (an admin change that then fails leaves a list entry that
  // listPractices skips).
  await s.teamLists.practiceAdmins.add([userId], practiceId);
  const practice = await changeAdmins(s, practiceId, actorId, (ids) => {
    if (ids.includes(userId))
      throw new AppError({
        status: 409,
        code: 'already-admin',
        message: 'This user already administers the practice.',
      });
    return [...ids, userId];
  });
  return toPracticeDto(s, practice);
}

/** @throws AppError 404 `practice-not-found`, `not-an-admin`; 400 `last-admin`. */
export async function removePracticeAdmin(
  s: Services,
  practiceId: string,
  actorId: string,
  userId: string,
): Promise<void> {
  await changeAdmins(s, practiceId, actorId, (ids) => {
    if (!ids.includes(userId))
      throw new AppError({
        status: 404,
        code: 'not-an-admin',
        message: 'This user does not administer the practice.',
      });
    if (ids.length === 1)
      throw new AppError({
        status: 400,
        code: 'last-admin',
        message: 'A practice keeps at least one admin.',
      });
    return ids.filter((id) => id !== userId);
  });
}
