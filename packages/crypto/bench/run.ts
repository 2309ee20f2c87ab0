// Benchmarks for issue 3. `pnpm --filter @medseal/crypto bench` (tsx bench/run.ts).
// Ratios are measured in the same run, interleaving ours and the baseline, median of N.
// Writes bench/results.json: { "<metric>": { "value": n, "unit": "..." } }.
import { spawnSync } from 'node:child_process';
import { createCipheriv, createHash, randomBytes as nodeRandomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { join } from 'node:path';
import { argon2id } from 'hash-wasm';
import * as openpgp from 'openpgp';
import {
  addRecipientPacket,
  appendRecipientPacket,
  createRecipientPacket,
  createSaltSeed,
  DEFAULT_KDF,
  deriveSecrets,
  exportPrivateKey,
  generateTeamKey,
  generateUserKey,
  lockPrivateKey,
  openAccountState,
  openRecord,
  type RecordExpectation,
  replayTeamLog,
  sealAccountState,
  sealFile,
  sealRecord,
  signTeamStatement,
  splitRecipientPackets,
  unlockPrivateKey,
  unwrapTeamKey,
  wrapTeamKey,
  type GeneratedUserKey,
  type RecordId,
  type TeamState,
  type UserId,
} from '../src';
import { canonicalJson, toHex, utf8 } from '../src/encoding';
import {
  generateLogKey,
  leafHash,
  signTreeHead,
  verifyConsistency,
  verifyInclusion,
  verifyTreeHead,
} from '../src/transparency';
import { memoryLog } from '../test/transparency-helpers';
import { clearKeyCaches } from '../src/keys';
import { pad } from '../src/padding';
import { MESSAGE_CONFIG } from '../src/openpgp-config';
import { stateOf } from '../test/account-state-helpers';

const results: Record<string, { value: number; unit: string }> = {};
const rows: [string, string, string][] = [];

function record(metric: string, value: number, unit: string, goal = ''): void {
  const rounded =
    unit === 'ratio' ? Math.round(value * 1000) / 1000 : Math.round(value * 100) / 100;
  results[metric] = { value: rounded, unit };
  rows.push([metric, `${rounded} ${unit}`, goal]);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

// A full GC before every timed call, so no call pays for another's garbage (hundreds of MiB in
// the file benchmarks). Never inside a timed call.
setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

async function time(fn: () => Promise<unknown> | unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/**
 * Measures ours and the baseline in adjacent pairs, with a full GC before every timed call (so
 * neither pays for the other's garbage), `n` pairs after three warm-up pairs. Returns the median
 * of each side and the median of the per-pair ratios: on this shared machine the load drifts
 * by 2× within a run, and a ratio of two adjacent timings cancels most of that drift.
 *
 * The order inside a pair alternates (ours first in even pairs, the baseline first in odd
 * ones). In 241-pair runs with both orders interleaved, 14 of 18 record comparisons gave a
 * higher median ratio in the pairs where ours ran first, mostly by 3–10 %: a position effect,
 * not work either side does, and a fixed order charged all of it to ours. Alternating gives
 * both sides each position equally often.
 */
async function compare(
  n: number,
  ours: () => Promise<unknown>,
  base: () => Promise<unknown> | unknown,
): Promise<{ ours: number; base: number; ratio: number }> {
  for (let i = 0; i < 3; i++) {
    await ours();
    await base();
  }
  const a: number[] = [];
  const b: number[] = [];
  const r: number[] = [];
  for (let i = 0; i < n; i++) {
    let x: number;
    let y: number;
    if (i % 2 === 0) {
      fullGc();
      x = await time(ours);
      fullGc();
      y = await time(base);
    } else {
      fullGc();
      y = await time(base);
      fullGc();
      x = await time(ours);
    }
    a.push(x);
    b.push(y);
    r.push(x / y);
  }
  return { ours: median(a), base: median(b), ratio: median(r) };
}

const envelope = {
  recordId: 'rec-bench' as RecordId,
  version: 1,
  ownerId: 'u-owner' as UserId,
  authorId: 'u-author' as UserId,
  createdAt: '2026-11-27T12:00:00.000Z',
  content: { kind: 'note', title: 'Benchmark', body: 'x'.repeat(4096 - 200) },
};

async function benchRecords(users: GeneratedUserKey[]): Promise<void> {
  const author = users[0] as GeneratedUserKey;
  for (const count of [1, 10, 100]) {
    const recipients = users.slice(0, count);
    const keys = recipients.map((u) => u.publicKey);
    // The baseline encrypts the very bytes sealRecord encrypts (the padded canonical envelope,
    // which also lists the recipients' fingerprints), so the ratio is our overhead alone.
    const plaintext = pad(
      utf8(
        canonicalJson({
          ...envelope,
          v: 1,
          recipients: recipients.map((u) => u.fingerprint).sort(),
        }),
      ),
    );
    // Many pairs: a record op takes a few ms, so one noisy pair moves a short median a lot. With
    // 61 pairs the open ratio of the same code swung between 0.99 and 1.31 from run to run; 201
    // pairs narrow that. 100 recipients: 41 pairs (21 swung by ±0.1; a cold pair takes ~0.4 s).
    const n = count === 100 ? 41 : 201;
    const preParsed = await Promise.all(keys.map((k) => openpgp.readKey({ armoredKey: k })));
    const rawSeal = async (parsed: openpgp.Key[]) =>
      openpgp.encrypt({
        message: await openpgp.createMessage({ binary: plaintext }),
        encryptionKeys: parsed,
        signingKeys: author.privateKey.key,
        config: MESSAGE_CONFIG,
      });
    // warm: our key-validation cache is filled (the app seals again and again to the same keys);
    // the baseline gets already parsed key objects, the least work openpgp.js can do.
    const seal = await compare(
      n,
      () => sealRecord({ envelope, authorKey: author.privateKey, recipientKeys: keys }),
      () => rawSeal(preParsed),
    );
    record(`record_seal_${count}_recipients`, seal.ours, 'ms');
    record(`record_seal_${count}_recipients_vs_openpgp`, seal.ratio, 'ratio', '≤ 1.10');
    // cold: caches emptied each time; the baseline parses the armored keys each time.
    const cold = await compare(
      n,
      () => {
        clearKeyCaches();
        return sealRecord({ envelope, authorKey: author.privateKey, recipientKeys: keys });
      },
      async () => rawSeal(await Promise.all(keys.map((k) => openpgp.readKey({ armoredKey: k })))),
    );
    record(`record_seal_${count}_recipients_cold`, cold.ours, 'ms');
    record(`record_seal_${count}_recipients_cold_vs_openpgp`, cold.ratio, 'ratio', '≤ 1.10');

    const sealed = await sealRecord({
      envelope,
      authorKey: author.privateKey,
      recipientKeys: keys,
    });
    const reader = recipients[recipients.length - 1] as GeneratedUserKey;
    const authorKey = await openpgp.readKey({ armoredKey: author.publicKey });
    const open = await compare(
      n,
      async () => {
        const r = await openRecord({
          message: sealed.message,
          myKey: reader.privateKey,
          expect: {
            ...envelope,
            authorPublicKey: author.publicKey,
            authorFingerprint: author.fingerprint,
            recipients: sealed.envelope.recipients,
          },
        });
        if (r.status !== 'verified') throw new Error(`bench: ${r.status}`);
      },
      async () => {
        const message = await openpgp.readMessage({ armoredMessage: sealed.message });
        const { data } = await openpgp.decrypt({
          message,
          decryptionKeys: reader.privateKey.key,
          verificationKeys: authorKey,
          expectSigned: true,
          format: 'binary',
          config: MESSAGE_CONFIG,
        });
        JSON.parse(new TextDecoder().decode(data).trimEnd());
      },
    );
    record(`record_open_${count}_recipients`, open.ours, 'ms');
    record(`record_open_${count}_recipients_vs_openpgp`, open.ratio, 'ratio', '≤ 1.10');

    // Issue 10: opening with every check the app now makes (pinned author and owner, the
    // highest version seen, readers = packets against every reader's key) against the open
    // above (the expectation the app passed before the trust contract), same run.
    const basic = {
      ...envelope,
      authorPublicKey: author.publicKey,
      authorFingerprint: author.fingerprint,
      recipients: sealed.envelope.recipients,
    };
    const every = {
      ...basic,
      ownerFingerprint: author.fingerprint,
      minVersion: envelope.version,
      readerKeys: keys,
    };
    const opened = async (expect: RecordExpectation) => {
      const r = await openRecord({ message: sealed.message, myKey: reader.privateKey, expect });
      if (r.status !== 'verified') throw new Error(`bench: ${r.status}`);
    };
    const checks = await compare(
      n,
      () => opened(every),
      () => opened(basic),
    );
    record(`record_open_${count}_recipients_every_check`, checks.ours, 'ms');
    record(
      `record_open_${count}_recipients_every_check_vs_before`,
      checks.ratio,
      'ratio',
      '≤ 1.15',
    );
  }
}

function gpgAvailable(): boolean {
  return spawnSync('gpg', ['--version']).status === 0;
}

async function benchFiles(author: GeneratedUserKey, reader: GeneratedUserKey): Promise<void> {
  const data = new Uint8Array(nodeRandomBytes(16 * 1024 * 1024));
  const recipientKeys = [reader.publicKey, author.publicKey];
  const aes = () => {
    const key = nodeRandomBytes(32);
    const iv = nodeRandomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, iv);
    c.update(data);
    c.final();
    c.getAuthTag();
  };
  const n = 9;
  const plain = await compare(
    n,
    () => sealFile({ data, authorKey: author.privateKey, recipientKeys }),
    aes,
  );
  const withProgress = await compare(
    n,
    () =>
      sealFile({ data, authorKey: author.privateKey, recipientKeys, onProgress: () => undefined }),
    aes,
  );
  record('file_16MiB_node_aes256gcm', plain.base, 'ms');
  record('file_16MiB_seal', plain.ours, 'ms');
  record('file_16MiB_seal_vs_node_aes256gcm', plain.ratio, 'ratio', '≤ 14');
  record('file_16MiB_seal_with_progress', withProgress.ours, 'ms');
  record('file_16MiB_seal_with_progress_vs_node_aes256gcm', withProgress.ratio, 'ratio', '≤ 14');

  if (gpgAvailable()) {
    const dir = mkdtempSync(join(tmpdir(), 'medseal-bench-'));
    const home = join(dir, 'gnupg');
    spawnSync('mkdir', ['-m', '700', home]);
    const passphrase = 'bench passphrase';
    const gpgArgs = [
      '--homedir',
      home,
      '--batch',
      '--no-tty',
      '--pinentry-mode',
      'loopback',
      '--passphrase',
      passphrase,
      '--trust-model',
      'always',
    ];
    for (const key of [
      await exportPrivateKey({ privateKey: author.privateKey, passphrase }),
      reader.publicKey,
    ]) {
      spawnSync('gpg', [...gpgArgs, '--import'], { input: key });
    }
    const input = join(dir, 'data.bin');
    writeFileSync(input, data);
    const gpgRun = () => {
      const r = spawnSync(
        'gpg',
        [
          ...gpgArgs,
          '--encrypt',
          '--sign',
          '-z0',
          '-r',
          reader.fingerprint,
          '-r',
          author.fingerprint,
          '-u',
          author.fingerprint,
          '--output',
          '-',
          input,
        ],
        {
          maxBuffer: 64 * 1024 * 1024,
        },
      );
      if (r.status !== 0) throw new Error(r.stderr.toString());
    };
    const vsGpg = await compare(
      n,
      () => sealFile({ data, authorKey: author.privateKey, recipientKeys }),
      gpgRun,
    );
    record('file_16MiB_gpg_encrypt_sign_z0', vsGpg.base, 'ms');
    record('file_16MiB_seal_vs_gpg', vsGpg.ratio, 'ratio', '≤ 1.0');
    spawnSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent']);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchShare(
  author: GeneratedUserKey,
  reader: GeneratedUserKey,
  newcomer: GeneratedUserKey,
): Promise<void> {
  const data = new Uint8Array(nodeRandomBytes(16 * 1024 * 1024));
  const { message } = await sealFile({
    data,
    authorKey: author.privateKey,
    recipientKeys: [author.publicKey, reader.publicKey],
  });
  // Stored as the server stores an attachment (apps/server, records/attachments.ts): its PKESKs
  // apart from the body, split once at upload. A share makes the newcomer's packet from the
  // stored packets (the browser) and adds it to the list (the server); the 16 MiB are not touched.
  const { packets } = splitRecipientPackets(message);
  const newPacket = () =>
    createRecipientPacket({
      recipientPackets: packets,
      myKey: author.privateKey,
      newRecipientKey: newcomer.publicKey,
    });
  const share = async () => appendRecipientPacket(packets, await newPacket());
  const reencrypt = () =>
    sealFile({
      data,
      authorKey: author.privateKey,
      recipientKeys: [author.publicKey, reader.publicKey, newcomer.publicKey],
    });
  // 41 pairs: the share/re-encrypt ratio sits near its goal, where 21 pairs swung by ±0.01.
  const r = await compare(41, share, reencrypt);
  // The fastest run shows the uncontended cost (the median moves with the other processes' load).
  let best = Infinity;
  for (let i = 0; i < 15; i++) {
    fullGc();
    best = Math.min(best, await time(share));
  }
  record('share_16MiB_fastest', best, 'ms');
  record('share_16MiB', r.ours, 'ms', '≤ 10 ms');
  record('share_16MiB_vs_reencrypt', r.ratio, 'ratio', '≤ 0.05');
  // For comparison, the same share into the whole message: packet from the message, then one
  // copy of it with the packet spliced in (addRecipientPacket, into uninitialised memory as the
  // server does for a record message, or once for an attachment stored whole by an earlier version).
  const splice = (pkesk: string) =>
    addRecipientPacket(message, pkesk, { allocate: (length) => Buffer.allocUnsafeSlow(length) });
  const whole = await compare(
    15,
    async () =>
      splice(
        await createRecipientPacket({
          message,
          myKey: author.privateKey,
          newRecipientKey: newcomer.publicKey,
        }),
      ),
    reencrypt,
  );
  record('share_16MiB_whole_message', whole.ours, 'ms');
  record('share_16MiB_whole_message_vs_reencrypt', whole.ratio, 'ratio');
  const pkesk = await newPacket();
  const parts = await compare(15, newPacket, () => splice(pkesk));
  record('share_16MiB_create_packet', parts.ours, 'ms');
  record('share_16MiB_whole_message_splice', parts.base, 'ms');
}

async function benchUnlock(): Promise<void> {
  const me = await generateUserKey({ name: 'Bench', email: 'bench@example.org' });
  const saltSeed = createSaltSeed();
  const { keySecret } = await deriveSecrets({
    password: 'bench password',
    email: 'bench@example.org',
    saltSeed,
    kdf: DEFAULT_KDF,
  });
  const locked = await lockPrivateKey({ privateKey: me.privateKey, secret: keySecret });
  const salt = new Uint8Array(16).fill(1);
  const r = await compare(
    5,
    async () => {
      const secrets = await deriveSecrets({
        password: 'bench password',
        email: 'bench@example.org',
        saltSeed,
        kdf: DEFAULT_KDF,
      });
      await unlockPrivateKey({ lockedKey: locked, secret: secrets.keySecret });
    },
    () =>
      argon2id({
        password: 'bench password',
        salt,
        memorySize: DEFAULT_KDF.memoryKiB,
        iterations: DEFAULT_KDF.iterations,
        parallelism: DEFAULT_KDF.parallelism,
        hashLength: 32,
        outputType: 'binary',
      }),
  );
  record('unlock_derive_and_unlock', r.ours, 'ms');
  record('unlock_argon2id_alone', r.base, 'ms');
  record('unlock_vs_argon2id', r.ratio, 'ratio', '≤ 1.15');
}

/**
 * Care teams (issue 13). Join = the admin signs the addition and wraps the team key for the
 * newcomer, who unwraps it: no record is read or written, whatever the number shared with the
 * team. Sharing with a team = one PKESK for the team key, the same operation as for a person.
 * A leave in a team of 50 = a new key, the signed removal and 49 envelopes.
 */
async function benchTeams(): Promise<void> {
  const people = await Promise.all(
    Array.from({ length: 51 }, (_, i) =>
      generateUserKey({ name: `Team ${i}`, email: `team${i}@example.org` }),
    ),
  );
  const [admin, newcomer, patient] = people as [
    GeneratedUserKey,
    GeneratedUserKey,
    GeneratedUserKey,
  ];
  const idOf = (p: GeneratedUserKey) => `u-${p.fingerprint.slice(0, 12)}` as UserId;
  const member = (p: GeneratedUserKey, isAdmin = false) => ({
    userId: idOf(p),
    fingerprint: p.fingerprint,
    role: 'doctor' as const,
    admin: isAdmin,
  });
  let teamKey = await generateTeamKey();
  const statements: string[] = [];
  const sign = async (
    state: TeamState | null,
    change: Parameters<typeof signTeamStatement>[0]['change'],
  ) => {
    const made = await signTeamStatement({
      state,
      teamId: 'team-bench',
      change,
      signerId: idOf(admin),
      signerKey: admin.privateKey,
    });
    statements.push(made.signed);
    return made.state;
  };
  let state = await sign(null, {
    type: 'create',
    practiceId: 'p',
    practiceName: 'Bench Practice',
    name: 'Bench Team',
    founder: member(admin, true),
    teamKey: teamKey.ref,
  });
  // A team of 50: the admin and 49 members (the newcomer is the 51st person).
  for (const p of people.slice(3)) state = await sign(state, { type: 'add', member: member(p) });
  state = await sign(state, { type: 'add', member: member(patient) });

  const context = { teamId: 'team-bench', gen: 1, memberId: idOf(newcomer) };
  const join = async () => {
    await signTeamStatement({
      state,
      change: { type: 'add', member: member(newcomer) },
      signerId: idOf(admin),
      signerKey: admin.privateKey,
    });
    const envelope = await wrapTeamKey({
      teamKey: teamKey.privateKey,
      context,
      memberPublicKey: newcomer.publicKey,
    });
    await unwrapTeamKey({
      message: envelope,
      myKey: newcomer.privateKey,
      context,
      expected: teamKey.ref,
    });
  };
  const joins: number[] = [];
  for (let i = 0; i < 23; i++) {
    fullGc();
    const t = await time(join);
    if (i >= 3) joins.push(t);
  }
  record('team_join_crypto', median(joins), 'ms', '≤ 50 ms, no record touched');
  // The fastest run shows the uncontended cost (the median moves with the other processes' load).
  record('team_join_crypto_fastest', Math.min(...joins), 'ms');

  const { message } = await sealRecord({
    envelope,
    authorKey: patient.privateKey,
    recipientKeys: [patient.publicKey],
  });
  const toTeam = () =>
    createRecipientPacket({
      message,
      myKey: patient.privateKey,
      newRecipientKey: teamKey.publicKey,
    });
  const toPerson = () =>
    createRecipientPacket({
      message,
      myKey: patient.privateKey,
      newRecipientKey: newcomer.publicKey,
    });
  const r = await compare(201, toTeam, toPerson);
  // Under heavy load the median ratio swings by ±15 % between runs; the fastest of each side is
  // the uncontended cost of the same operation.
  let fastest = { team: Infinity, person: Infinity };
  for (let i = 0; i < 41; i++) {
    fullGc();
    fastest = { team: Math.min(fastest.team, await time(toTeam)), person: fastest.person };
    fullGc();
    fastest = { team: fastest.team, person: Math.min(fastest.person, await time(toPerson)) };
  }
  record('team_share_fastest_vs_person_fastest', fastest.team / fastest.person, 'ratio');
  record('team_share_team_of_50', r.ours, 'ms');
  record('team_share_team_of_50_vs_person', r.ratio, 'ratio', '1 ± 0.10');

  const replays: number[] = [];
  for (let i = 0; i < 7; i++) {
    fullGc();
    replays.push(
      await time(() =>
        replayTeamLog({ teamId: 'team-bench', statements, publicKeys: [admin.publicKey] }),
      ),
    );
  }
  record(`team_replay_${statements.length}_statements`, median(replays.slice(2)), 'ms');

  const remaining = people.filter((p) => p !== newcomer && p !== patient);
  const leave = async () => {
    teamKey = await generateTeamKey();
    await signTeamStatement({
      state,
      change: { type: 'remove', userId: idOf(patient), teamKey: teamKey.ref },
      signerId: idOf(admin),
      signerKey: admin.privateKey,
    });
    await Promise.all(
      remaining.map((p) =>
        wrapTeamKey({
          teamKey: teamKey.privateKey,
          context: { teamId: 'team-bench', gen: 2, memberId: idOf(p) },
          memberPublicKey: p.publicKey,
        }),
      ),
    );
  };
  const leaves: number[] = [];
  for (let i = 0; i < 7; i++) {
    fullGc();
    leaves.push(await time(leave));
  }
  record('team_leave_team_of_50_crypto', median(leaves.slice(2)), 'ms');
}

/**
 * The account state (issue 10, DESIGN §12) with 1,000 pinned contacts and 10,000 records
 * tracked: seal (save) and open (load, with a high-water mark) in the worker's code path.
 */
async function benchAccountState(): Promise<void> {
  const me = await generateUserKey({ name: 'State', email: 'state@example.org' });
  const state = await stateOf(me, { pins: 1000, records: 10_000 });
  // Reference in the same run: the same state without its 10,000 access-trail marks.
  const reference = { ...state, audit: {} };
  const runs = {
    state: { saves: [] as number[], loads: [] as number[], size: 0 },
    reference: { saves: [] as number[], loads: [] as number[], size: 0 },
  };
  for (let i = 0; i < 13; i++) {
    for (const [name, s] of [
      ['state', state],
      ['reference', reference],
    ] as const) {
      const run = runs[name];
      fullGc();
      let sealed: Awaited<ReturnType<typeof sealAccountState>> | undefined;
      run.saves.push(
        await time(async () => (sealed = await sealAccountState({ state: s, key: me.privateKey }))),
      );
      if (!sealed) throw new Error('no state sealed');
      const { message, mark } = sealed;
      run.size = message.length;
      fullGc();
      run.loads.push(
        await time(() =>
          openAccountState({ message, userId: s.userId, key: me.privateKey, highWater: mark }),
        ),
      );
    }
  }
  const { state: full, reference: ref } = runs;
  record('account_state_save_1000_pins_10000_records', median(full.saves.slice(3)), 'ms', '≤ 50');
  record('account_state_load_1000_pins_10000_records', median(full.loads.slice(3)), 'ms', '≤ 50');
  record('account_state_bytes_1000_pins_10000_records', full.size / 1024, 'KiB');
  record(
    'account_state_save_ratio_vs_no_audit_marks',
    median(full.saves.slice(3)) / median(ref.saves.slice(3)),
    '×',
  );
  record(
    'account_state_load_ratio_vs_no_audit_marks',
    median(full.loads.slice(3)) / median(ref.loads.slice(3)),
    '×',
  );
  record('account_state_bytes_no_audit_marks', ref.size / 1024, 'KiB');
}

/**
 * Key transparency (issue 12): a client verifies one inclusion and one consistency proof in a
 * tree of 1,000,000 leaves (goal ≤ 2 ms). Reference in the same run: as many SHA-256 node
 * hashes through node:crypto (native), the floor any verifier of these proofs pays.
 */
async function benchKt(): Promise<void> {
  const SIZE = 1_000_000;
  const index = 765_432;
  const old = 654_321;
  const leaf = leafHash(utf8(`leaf ${index}`));
  // Built, read from, then dropped before timing: the full GCs between timed calls stay small.
  const { inclusion, consistency, root, oldRoot } = (() => {
    const log = memoryLog();
    for (let i = 0; i < SIZE; i++) log.append(leafHash(utf8(`leaf ${i}`)));
    return {
      inclusion: log.inclusion(index),
      consistency: log.consistency(old),
      root: log.root(),
      oldRoot: log.root(old),
    };
  })();
  const hashes = inclusion.length + consistency.length;
  const nodeInput = new Uint8Array(65);
  const { ours, base, ratio } = await compare(
    201,
    async () => {
      verifyInclusion(index, SIZE, leaf, inclusion, root);
      verifyConsistency(old, SIZE, oldRoot, root, consistency);
    },
    () => {
      for (let i = 0; i < hashes; i++) createHash('sha256').update(nodeInput).digest();
    },
  );
  record('kt_verify_inclusion_plus_consistency_1M', ours, 'ms', '≤ 2');
  record('kt_reference_same_hashes_node_crypto', base, 'ms');
  record('kt_verify_vs_native_hashes', ratio, 'ratio');
  const key = generateLogKey();
  const head = signTreeHead(
    { v: 1, size: SIZE, root: toHex(root), timestamp: Date.now() },
    key.secretKey,
  );
  const sigs: number[] = [];
  for (let i = 0; i < 53; i++) sigs.push(await time(() => verifyTreeHead(head, key.publicKey)));
  record('kt_verify_head_signature', median(sigs.slice(3)), 'ms');
}

async function main(): Promise<void> {
  // `tsx bench/run.ts teams`: only the care-team figures (printed; results.json untouched).
  // `tsx bench/run.ts records`: only the record seal/open figures (printed; results.json untouched).
  if (process.argv.includes('records')) {
    await benchRecords(
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          generateUserKey({ name: `Bench ${i}`, email: `bench${i}@example.org` }),
        ),
      ),
    );
    for (const [metric, value, goal] of rows)
      console.log(`${metric.padEnd(44)}  ${value.padStart(14)}  ${goal}`);
    return;
  }
  if (
    process.argv.includes('teams') ||
    process.argv.includes('account-state') ||
    process.argv.includes('kt')
  ) {
    await (process.argv.includes('teams')
      ? benchTeams()
      : process.argv.includes('kt')
        ? benchKt()
        : benchAccountState());
    for (const [metric, value, goal] of rows)
      console.log(`${metric.padEnd(34)}  ${value.padStart(14)}  ${goal}`);
    return;
  }
  // Each benchmark starts from a clean heap: the 100 record users (and the key caches) are
  // dropped before the 16 MiB benchmarks, whose full GCs (triggered by the large allocations)
  // otherwise pay for marking them.
  await benchRecords(
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        generateUserKey({ name: `Bench ${i}`, email: `bench${i}@example.org` }),
      ),
    ),
  );
  clearKeyCaches();
  const [a, b, c] = (await Promise.all(
    [0, 1, 2].map((i) => generateUserKey({ name: `File ${i}`, email: `file${i}@example.org` })),
  )) as [GeneratedUserKey, GeneratedUserKey, GeneratedUserKey];
  await benchFiles(a, b);
  await benchShare(a, b, c);
  await benchUnlock();
  clearKeyCaches();
  await benchTeams();
  await benchAccountState();
  await benchKt();

  const width = Math.max(...rows.map((r) => r[0].length));
  console.log(`${'metric'.padEnd(width)}  ${'value'.padStart(14)}  goal`);
  for (const [metric, value, goal] of rows)
    console.log(`${metric.padEnd(width)}  ${value.padStart(14)}  ${goal}`);
  console.log(JSON.stringify(results, null, 2));
  writeFileSync(
    join(process.cwd(), 'bench', 'results.json'),
    JSON.stringify(results, null, 2) + '\n',
  );
}

void main();
