// Bench (issue 13), against the real server and database, each figure beside a reference taken
// in the same run:
// - Join at 10 and at 1,000 records shared with the team (BENCH_TEAM_RECORDS, default "10,1000"):
//   the crypto of a join (the admin signs the addition and wraps the team key for the newcomer;
//   the newcomer unwraps it; goal ≤ 50 ms) and the join request, each at both sizes and as a
//   ratio (goal: independent of the number of records, ~1); then the newcomer opens a record
//   shared with the team before she joined, with the key she was just given: nothing was
//   re-encrypted for her (the stored message is the one shared before).
// - Sharing one record with a team of 50 against sharing it with one person (the reference),
//   as the app does each (one PKESK + one signed grant + the request), interleaved on fresh
//   records (goal: ratio 1 ± 0.10).
// Seeding goes through the same API calls as the app's (e2e/support/teams.ts). Prints the
// figures and writes bench/teams-results.json.
//   pnpm --filter @medseal/web exec tsx bench/teams.ts      (BENCH_TEAM_PART=join|share: one part, no file)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDevDb } from '@medseal/devdb';
import { startTestServer, testSettings } from '@medseal/server/testing';
import * as pgp from '@medseal/crypto';
import type { Fingerprint, RecordId, UserId } from '@medseal/crypto';
import type { RecordDto } from '@medseal/contract';
import { api, registerUser } from '../e2e/support/api';
import { seedCall } from './seedCall';
import {
  addMember,
  consentToTeam,
  createNote,
  createTeam,
  shareWithTeam,
  type NodeTeam,
  type NodeUser,
} from '../e2e/support/teams';

const SIZES = (process.env.BENCH_TEAM_RECORDS ?? '10,1000').split(',').map(Number);
/** Newcomers timed at each size (the first is a warm-up). */
const JOINS = Number(process.env.BENCH_TEAM_JOINS ?? 8);
/** Shares timed on each side (team of 50, one person), interleaved. */
const SHARES = Number(process.env.BENCH_TEAM_SHARES ?? 30);
const TEAM_SIZE = 50;
/** BENCH_TEAM_PART=join or share: only that part (a quick run while working on it). */
const PART = process.env.BENCH_TEAM_PART;

const root = process.cwd();
const results: Record<string, { value: number; unit: string }> = {};
const put = (name: string, value: number, unit: string) => {
  results[name] = { value: Math.round(value * 100) / 100, unit };
  console.log(`${name.padEnd(56)} ${results[name]?.value} ${unit}`);
};
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
};
const timed = async <T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> => {
  const start = performance.now();
  const value = await f();
  return { ms: performance.now() - start, value };
};

let people = 0;
const newUser = (base: string, role: 'doctor' | 'patient' = 'doctor'): Promise<NodeUser> => {
  const n = ++people;
  return registerUser(base, {
    name: `Bench Person ${n}`,
    email: `bench-team-${n}@example.org`,
    role,
    password: `Bench-Quartz-Linden-${n}`,
  });
};

const currentKey = (team: NodeTeam) => {
  const key = team.keys[team.keys.length - 1];
  if (!key) throw new Error('a team always has a key');
  return key;
};

/**
 * One join, as the admin's and the newcomer's browsers do it: the admin signs the addition and
 * wraps the current team key for her (crypto), then sends both (request); the newcomer fetches
 * her envelope and unwraps it (crypto).
 */
async function joinTeam(team: NodeTeam, admin: NodeUser, newcomer: NodeUser) {
  const gen = team.keys.length;
  const key = currentKey(team);
  const context = { teamId: team.id, gen, memberId: newcomer.id };
  const member = {
    userId: newcomer.id as UserId,
    fingerprint: newcomer.key.fingerprint,
    role: 'doctor' as const,
    admin: false,
  };
  const sign = await timed(async () => {
    const made = await pgp.signTeamStatement({
      state: team.state,
      change: { type: 'add', member },
      signerId: admin.id as UserId,
      signerKey: admin.key.privateKey,
    });
    const envelope = await pgp.wrapTeamKey({
      teamKey: key.privateKey,
      context,
      memberPublicKey: newcomer.key.publicKey,
    });
    return { made, envelope };
  });
  const request = await timed(() =>
    api(admin.session, 'POST', `/teams/${team.id}/statements`, {
      statement: sign.value.made.signed,
      keyEnvelopes: [{ memberId: newcomer.id, message: sign.value.envelope }],
    }),
  );
  team.state = sign.value.made.state;
  const served = await api<{ message: string }>(
    newcomer.session,
    'GET',
    `/teams/${team.id}/key-envelopes/${gen}`,
  );
  const unwrap = await timed(() =>
    pgp.unwrapTeamKey({
      message: served.message,
      myKey: newcomer.key.privateKey,
      context,
      expected: key.ref,
    }),
  );
  return { crypto: sign.ms + unwrap.ms, request: request.ms, teamKey: unwrap.value };
}

async function joinBench(base: string, size: number) {
  const admin = await newUser(base);
  const patient = await newUser(base, 'patient');
  const team = await createTeam(admin, `Join bench ${size}`, 'Bench Practice');
  await consentToTeam(patient, team);
  const shared: { id: string; message: string }[] = [];
  for (let i = 0; i < size; i++) {
    const record = await seedCall(() => createNote(patient, `Shared with the team ${i}`));
    if (!record) throw new Error('a new note is never answered as already stored');
    await seedCall(
      () => shareWithTeam(patient, team, record),
      (e) => /HTTP 409 .*already-recipient/.test(e.message),
    );
    shared.push(record);
    if ((i + 1) % 100 === 0) console.log(`seeded ${i + 1} of ${size} records shared with the team`);
  }
  const crypto: number[] = [];
  const requests: number[] = [];
  let last: Awaited<ReturnType<typeof joinTeam>> | undefined;
  let newcomer: NodeUser | undefined;
  for (let i = 0; i < JOINS; i++) {
    newcomer = await newUser(base);
    last = await joinTeam(team, admin, newcomer);
    if (i === 0) continue;
    crypto.push(last.crypto);
    requests.push(last.request);
  }
  // She reads what was shared before she joined, with the key she was given: the stored message
  // is the one the patient shared (nothing re-encrypted for her), and it opens with every check.
  const first = shared[0];
  if (!first || !last || !newcomer) throw new Error('nothing to read');
  const reading = await timed(async () => {
    const dto = await api<RecordDto>(newcomer.session, 'GET', `/records/${first.id}`);
    if (dto.message === first.message)
      throw new Error('the stored message is the one before the share: the team packet is missing');
    if (dto.version !== 1) throw new Error('the record was re-encrypted for the newcomer');
    // The team reads through the patient's signed team grant (DESIGN §13).
    const access = await api<{ teams: { signedGrant?: string }[] }>(
      newcomer.session,
      'GET',
      `/records/${first.id}/access`,
    );
    const teamGrants = access.teams.flatMap((t) =>
      t.signedGrant ? [{ signedGrant: t.signedGrant, signerPublicKey: patient.key.publicKey }] : [],
    );
    const opened = await pgp.openRecord({
      message: dto.message,
      myKey: last.teamKey,
      expect: {
        recordId: dto.id as RecordId,
        version: dto.version,
        ownerId: patient.id as UserId,
        authorId: patient.id as UserId,
        authorPublicKey: patient.key.publicKey,
        ownerFingerprint: patient.key.fingerprint as Fingerprint,
        recipients: [...dto.recipients, ...dto.teams].map((r) => r.fingerprint as Fingerprint),
        teamGrants,
        teams: [team.state],
      },
    });
    if (opened.status !== 'verified')
      throw new Error(`the newcomer could not open it: ${opened.status}`);
  });
  return {
    crypto: median(crypto),
    fastest: Math.min(...crypto),
    request: median(requests),
    read: reading.ms,
  };
}

/** A record of the patient's to share, sealed and stored as the app does. */
const freshRecord = (patient: NodeUser, i: number) =>
  seedCall(() => createNote(patient, `Share bench ${i}`));

async function shareBench(base: string) {
  const admin = await newUser(base);
  const patient = await newUser(base, 'patient');
  const person = await newUser(base);
  const team = await createTeam(admin, 'Team of 50', 'Bench Practice');
  for (let i = 1; i < TEAM_SIZE; i++) await addMember(team, admin, await newUser(base));
  if (team.state.members.length !== TEAM_SIZE)
    throw new Error(`the team has ${team.state.members.length} members`);
  const toPerson = async (record: { id: string; message: string }) => {
    const pkesk = await pgp.createRecipientPacket({
      message: record.message,
      myKey: patient.key.privateKey,
      newRecipientKey: person.key.publicKey,
    });
    const { signedGrant } = await pgp.createGrant({
      grant: {
        recordId: record.id as RecordId,
        granteeUserId: person.id as UserId,
        granteeFingerprint: person.key.fingerprint,
        grantedBy: patient.id as UserId,
      },
      signerKey: patient.key.privateKey,
    });
    await api(patient.session, 'POST', `/records/${record.id}/grants`, {
      granteeUserId: person.id,
      signedGrant,
      pkesk,
    });
  };
  const toTeam = (record: { id: string; message: string }) => shareWithTeam(patient, team, record);
  const sides = { team: [] as number[], person: [] as number[] };
  for (let i = -2; i < SHARES; i++) {
    // Alternate which side goes first, so a load burst does not always hit the same one.
    const order = i % 2 === 0 ? (['team', 'person'] as const) : (['person', 'team'] as const);
    for (const side of order) {
      const record = await freshRecord(patient, i);
      if (!record) throw new Error('a new note is never answered as already stored');
      const { ms } = await timed(() => (side === 'team' ? toTeam(record) : toPerson(record)));
      if (i >= 0) sides[side].push(ms);
    }
  }
  return {
    team: median(sides.team),
    person: median(sides.person),
    teamFastest: Math.min(...sides.team),
    personFastest: Math.min(...sides.person),
  };
}

async function main() {
  const db = await startDevDb({ mongodbUri: process.env.MONGODB_URI, log: () => undefined });
  const server = await startTestServer({
    mongoUri: `${db.uri.replace(/\/$/, '')}/medseal_teams_bench_${Date.now()}`,
    settings: {
      checkResponses: false,
      // The share part registers a team of 50 at once: more than the per-IP registration limit.
      rateLimits: { ...testSettings().rateLimits, registerPerIp: 1_000 },
    },
  });
  try {
    const joins: {
      size: number;
      crypto: number;
      fastest: number;
      request: number;
      read: number;
    }[] = [];
    for (const size of PART === 'share' ? [] : SIZES) {
      const j = { size, ...(await joinBench(server.baseUrl, size)) };
      joins.push(j);
      put(`team_join_crypto_at_${size}_records`, j.crypto, 'ms');
      put(`team_join_crypto_fastest_at_${size}_records`, j.fastest, 'ms');
      put(`team_join_request_at_${size}_records`, j.request, 'ms');
      put(`team_join_newcomer_opens_a_shared_record_at_${size}_records`, j.read, 'ms');
    }
    const [small, large] = [joins[0], joins[joins.length - 1]];
    if (small && large && small !== large) {
      // The reference is the join at the smaller size, in the same run: goal ~1 (no record touched).
      put(
        `team_join_crypto_${large.size}_vs_${small.size}_records`,
        large.crypto / small.crypto,
        'ratio',
      );
      put(
        `team_join_request_${large.size}_vs_${small.size}_records`,
        large.request / small.request,
        'ratio',
      );
    }
    if (PART === 'join') return;
    const share = await shareBench(server.baseUrl);
    put('share_one_record_with_a_person (reference)', share.person, 'ms');
    put(`share_one_record_with_a_team_of_${TEAM_SIZE}`, share.team, 'ms');
    put(`share_team_of_${TEAM_SIZE}_vs_person`, share.team / share.person, 'ratio');
    put(
      `share_team_of_${TEAM_SIZE}_vs_person_fastest_of_each`,
      share.teamFastest / share.personFastest,
      'ratio',
    );
  } finally {
    await server.close();
    await db.stop();
  }
  if (PART) return;
  writeFileSync(join(root, 'bench', 'teams-results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log('wrote bench/teams-results.json');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
