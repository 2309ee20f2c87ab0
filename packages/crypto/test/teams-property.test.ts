// Property tests (fast-check) over random join / leave / rotate sequences, driven the way the
// app drives a team: the admin signs each change, wraps the team key for whoever must get it
// (a joiner: the current key; after a leave or a rotation: the new key, for every remaining
// member), and re-keys the current version of a record shared with the team. After any
// sequence, exactly the current members can unwrap the current team key and open the current
// version; everyone who left cannot, with every key envelope they ever received.
import fc from 'fast-check';
import {
  currentTeamKey,
  openRecord,
  replayTeamLog,
  sealRecord,
  unwrapTeamKey,
  wrapTeamKey,
  type ArmoredMessage,
  type UnlockedKey,
} from '../src';
import { sampleEnvelope } from './helpers';
import { entry, forgeStatement, person, TEAM_ID, TeamLog, type Person } from './team-helpers';

let pool: Person[] = [];
let founder: Person;
beforeAll(async () => {
  founder = await person('Founder');
  pool = await Promise.all(['P1', 'P2', 'P3', 'P4', 'P5'].map((n) => person(n)));
});

type Op = { kind: 'join'; who: number } | { kind: 'leave'; who: number } | { kind: 'rotate' };
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('join' as const), who: fc.nat({ max: 4 }) }),
  fc.record({ kind: fc.constant('leave' as const), who: fc.nat({ max: 4 }) }),
  fc.constant({ kind: 'rotate' as const }),
);

/** What the server would hold: the log, key envelopes by `${gen}:${userId}`, the record's current version. */
async function run(ops: Op[]) {
  const log = await TeamLog.create(founder);
  const envelopes = new Map<string, ArmoredMessage>();
  const wrap = async (p: Person) => {
    const gen = currentTeamKey(log.state).gen;
    const context = { teamId: TEAM_ID, gen, memberId: p.id };
    envelopes.set(
      `${gen}:${p.id}`,
      await wrapTeamKey({
        teamKey: log.currentTeamKey.privateKey,
        context,
        memberPublicKey: p.key.publicKey,
      }),
    );
  };
  await wrap(founder);
  const seal = (version: number) =>
    sealRecord({
      envelope: { ...sampleEnvelope, version, authorId: founder.id },
      authorKey: founder.key.privateKey,
      recipientKeys: [founder.key.publicKey, log.currentTeamKey.publicKey],
    });
  let current = await seal(1);
  const members = new Set<string>();
  for (const o of ops) {
    const p = o.kind === 'rotate' ? undefined : pool[o.who];
    if (o.kind === 'join' && p && !members.has(p.id)) {
      await log.add(entry(p), founder);
      members.add(p.id);
      await wrap(p);
    } else if (o.kind !== 'join' && (o.kind === 'rotate' || (p && members.has(p.id)))) {
      if (o.kind === 'leave' && p) {
        await log.remove(p.id, founder);
        members.delete(p.id);
      } else {
        await log.rotate(founder);
      }
      for (const m of [founder, ...pool].filter((x) => x === founder || members.has(x.id)))
        await wrap(m);
      // The re-key of the current version: a new version sealed to the new team key.
      current = await seal(current.envelope.version + 1);
    }
  }
  return { log, envelopes, current, members };
}

describe('team properties', () => {
  it('after any join/leave/rotate sequence, exactly the current members unwrap the current key and open the current version', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 8 }), async (ops) => {
        const { log, envelopes, current, members } = await run(ops);
        const replayed = await replayTeamLog({
          teamId: TEAM_ID,
          statements: log.statements,
          publicKeys: [founder.key.publicKey],
        });
        if (replayed.status !== 'verified') throw new Error(`replay: ${JSON.stringify(replayed)}`);
        expect(replayed.state.members.map((m) => m.userId).sort()).toEqual(
          [founder.id, ...members].sort(),
        );
        const key = currentTeamKey(replayed.state);
        const expect_ = {
          ...sampleEnvelope,
          version: current.envelope.version,
          authorId: founder.id,
          authorPublicKey: founder.key.publicKey,
          recipients: current.envelope.recipients,
        };
        for (const p of pool) {
          const mine = [...envelopes.entries()].filter(([k]) => k.endsWith(`:${p.id}`));
          if (members.has(p.id)) {
            const envelope = envelopes.get(`${key.gen}:${p.id}`);
            if (!envelope) throw new Error('a member has no envelope for the current key');
            const teamKey = await unwrapTeamKey({
              message: envelope,
              myKey: p.key.privateKey,
              context: { teamId: TEAM_ID, gen: key.gen, memberId: p.id },
              expected: key,
            });
            expect(
              (await openRecord({ message: current.message, myKey: teamKey, expect: expect_ }))
                .status,
            ).toBe('verified');
          } else {
            expect(envelopes.has(`${key.gen}:${p.id}`)).toBe(false);
            // Every team key they ever held (they may have kept them all) fails on the current version.
            for (const [k, envelope] of mine) {
              const gen = Number(k.split(':')[0]);
              const held: UnlockedKey = await unwrapTeamKey({
                message: envelope,
                myKey: p.key.privateKey,
                context: { teamId: TEAM_ID, gen, memberId: p.id },
                expected: replayed.state.keys[gen - 1] ?? key,
              });
              expect(
                (await openRecord({ message: current.message, myKey: held, expect: expect_ }))
                  .status,
              ).toBe('not-for-me');
            }
          }
        }
      }),
      { numRuns: 12 },
    );
  });

  it('a server that drops, reorders or forges a statement, or serves an older head, is always caught', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 2, maxLength: 6 }),
        fc.nat(),
        fc.nat(),
        async (ops, pick, pick2) => {
          const { log } = await run(ops);
          const statements = log.statements;
          const publicKeys = [founder, ...pool].map((p) => p.key.publicKey as string);
          const replay = (
            list: readonly string[],
            pinned = { genesis: log.state.genesis, seq: log.state.seq, head: log.state.head },
          ) => replayTeamLog({ teamId: TEAM_ID, statements: list, publicKeys, pinned });
          expect((await replay(statements)).status).toBe('verified');
          const n = statements.length;
          if (n >= 2) {
            // dropping any one statement but the last breaks the chain; dropping the last is a rollback
            const drop = pick % n;
            const dropped = statements.filter((_, i) => i !== drop);
            expect((await replay(dropped)).status).toBe(drop === n - 1 ? 'rollback' : 'invalid');
            // swapping two statements breaks the chain
            const i = pick % (n - 1);
            const j = i + 1 + (pick2 % (n - 1 - i));
            const swapped = [...statements];
            [swapped[i], swapped[j]] = [swapped[j] ?? '', swapped[i] ?? ''];
            expect((await replay(swapped)).status).toBe('invalid');
          }
          // the server adds a member on its own: signed by a member who is no admin, or claiming the admin with another key
          const forger = pool[pick % pool.length] ?? founder;
          const intruder = { ...forger, id: 'u-intruder' as typeof forger.id };
          const change = { type: 'add' as const, member: entry(intruder) };
          const byMember = await forgeStatement({
            state: log.state,
            change,
            by: forger,
            signer: forger,
          });
          expect(await replay([...statements, byMember])).toMatchObject({
            status: 'invalid',
            seq: n,
            code: 'not-team-admin',
          });
          const asAdmin = await forgeStatement({
            state: log.state,
            change,
            by: founder,
            signer: forger,
          });
          expect(await replay([...statements, asAdmin])).toMatchObject({
            status: 'invalid',
            seq: n,
            code: 'bad-signature',
          });
        },
      ),
      { numRuns: 10 },
    );
  });
});
