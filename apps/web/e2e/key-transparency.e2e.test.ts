// Key transparency against a malicious server (issue 12, DESIGN §14), in real Chromium. The
// operator rewrites API answers in the victim's browser (Playwright routes) and, holding the log
// key and the database, writes the log itself. Each attack must end in a warning the user sees:
// - a key the log never bound to the person: sharing with them is blocked, with the reason;
// - the log binds an attacker's key to a doctor: her own client alerts at her next login;
// - the operator hides that key from the doctor behind a log without it (the victim's side of
//   a split view): her client sees the key once a patient's head from the real log reaches her;
// - an alert acknowledged stays acknowledged (account state) and a new event shows in full;
// - a team change no admin signed, logged by the operator: sharing with the team is blocked,
//   with the reason, and the team's admin is alerted at login;
// - a team she never joined names a doctor as its member: her client shows it at login;
// - a forked log shown to one patient: the doctor reading her grant and record sees a split
//   view, and the auditor refuses the forked tree;
// - a leaf left out of a subject's listing (an attacker's key for a doctor, a team change for
//   its admin): the map the head signs still counts it, and the client alerts; a wrong map
//   proof is refused with the reason.
import type { Page } from 'playwright-core';
import { randomBytes } from 'node:crypto';
import {
  encodeBinding,
  generateTeamKey,
  generateUserKey,
  keyIdentityOf,
  logPublicKeyOf,
  parseBinding,
  signTeamStatement,
  teamStatementBindingOf,
  wrapTeamKey,
  type UserId,
} from '@medseal/crypto';
import { auditOnce, operatorLog } from '@medseal/server/testing';
import { api, registerUser } from './support/api';
import { createNote, loginAs, register, type Account } from './support/app';
import { newDevice, type CapturedRequest } from './support/browser';
import type {
  DirectoryResponse,
  KtHistoryResponse,
  TeamStatementsResponse,
} from '@medseal/contract';
import {
  answerWithout,
  grantsSent,
  realJson,
  rewriteJson,
  serveForkedLog,
  serveKeyAs,
  stopAll,
  totalHits,
  type Attack,
} from './support/malicious-server';
import { browserSuite } from './support/suite';
import { addMember, createTeam } from './support/teams';
import {
  closeDevices,
  extraDevice,
  findToShare,
  openRecordPage,
  settled,
  shareWith,
} from './support/victim';

const patient: Account = {
  role: 'patient',
  name: 'Iris Patient',
  email: 'iris@example.org',
  password: 'Lichen-Marble-Osprey-40',
};
const dana: Account = {
  role: 'doctor',
  name: 'Dr Dana Fox',
  email: 'dana@clinic.example',
  password: 'Quartz-Willow-Harbor-17',
};
const omar: Account = {
  role: 'doctor',
  name: 'Dr Omar Reyes',
  email: 'omar@clinic.example',
  password: 'Saffron-Glacier-Piano-38',
};
const cara: Account = {
  role: 'doctor',
  name: 'Dr Cara Lee',
  email: 'cara@practice.example',
  password: 'Meadow-Copper-Lantern-51',
};
const mallory: Account = {
  role: 'doctor',
  name: 'Dr Mallory Vance',
  email: 'mallory@evil.example',
  password: 'Ember-Falcon-Glacier-64',
};

const suite = browserSuite({ readCacheTtlMs: 0 });
const captured: CapturedRequest[] = [];
const attacks: Attack[] = [];
let patientPage: Page;
let ids: Record<'dana' | 'omar' | 'cara' | 'mallory', string>;
let malloryPublicKey = '';

beforeAll(async () => {
  ({ page: patientPage } = await newDevice(suite.browser, captured));
  await register(patientPage, suite.server.baseUrl, patient);
  const [d, o, c, m] = await Promise.all(
    [dana, omar, cara, mallory].map((a) => registerUser(suite.server.baseUrl, a)),
  );
  if (!d || !o || !c || !m) throw new Error('registration failed');
  ids = { dana: d.id, omar: o.id, cara: c.id, mallory: m.id };
  malloryPublicKey = m.key.publicKey;
});

afterEach(async () => {
  await stopAll(attacks);
  await closeDevices();
});

const alertWith = (page: Page, text: string | RegExp) =>
  page.getByRole('alert').filter({ hasText: text });
/** A date as the app shows it (the browser's locale and time zone). */
const shownDate = (page: Page, at: Date) =>
  page.evaluate(
    (ms) =>
      new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(
        new Date(ms),
      ),
    at.getTime(),
  );
const doctor = (name: string, email: string): Account => ({
  role: 'doctor',
  name,
  email,
  password: `${name.split(' ').pop() ?? 'x'}-Harbour-Lantern-41`,
});

describe('key transparency against a malicious server (real Chromium)', () => {
  it('when the directory serves a key the log never bound to the doctor, then sharing with her is blocked and the page says why', async () => {
    const impostor = await generateUserKey({ name: dana.name, email: dana.email });
    const { fingerprint } = await keyIdentityOf(impostor.publicKey);
    attacks.push(
      ...(await serveKeyAs(patientPage, ids.dana, { publicKey: impostor.publicKey, fingerprint })),
    );
    const recordId = await createNote(patientPage, 'Migraine diary', 'Three episodes this month');
    const since = captured.length;

    // The log holds Dana's real key: the proof the server gives is for another key.
    expect(await findToShare(patientPage, recordId, dana)).toBe(true);
    await alertWith(patientPage, /lists another key for Dr Dana Fox/).waitFor({ timeout: 60_000 });
    await expect(
      alertWith(patientPage, `Sharing with ${dana.name} is blocked`).count(),
    ).resolves.toBe(1);
    expect(await patientPage.getByRole('button', { name: `Share with ${dana.name}` }).count()).toBe(
      0,
    );

    // The server also denies having logged any key for her: still blocked, another reason.
    const hidden = await answerWithout(
      patientPage,
      { method: 'GET', path: /^\/api\/kt\/users\/[^/]+\/binding$/ },
      {
        status: 404,
        json: {
          error: {
            code: 'kt-not-logged',
            message: 'The log holds no key for this user in that tree.',
          },
        },
      },
    );
    attacks.push(hidden);
    await patientPage.getByRole('button', { name: 'Find' }).click();
    await alertWith(patientPage, /not in the public key log/).waitFor({ timeout: 60_000 });
    expect(hidden.hits).toBeGreaterThan(0);
    expect(await patientPage.getByRole('button', { name: `Share with ${dana.name}` }).count()).toBe(
      0,
    );
    expect(grantsSent(captured, since)).toEqual([]);
  });

  it('when the directory answers a doctor’s email with another real person (his key rightly logged for him, with his nonce), then sharing is blocked: the log binds that key to another email', async () => {
    // What the server knows of Mallory: his entry and the nonce his key leaf commits to his email under.
    const real = await realJson<DirectoryResponse>(
      patientPage,
      `/api/users?email=${encodeURIComponent(mallory.email)}`,
    );
    const entry = real.users[0];
    expect(entry?.emailNonce).toBeDefined();
    // Mallory's leaf, served to anyone who knows his id, holds no email.
    const leaf = await realJson<{ leaf: { data: string } }>(
      patientPage,
      `/api/kt/users/${ids.mallory}/binding?size=${(await realJson<{ size: number }>(patientPage, '/api/kt/head')).size}`,
    );
    expect(leaf.leaf.data).not.toContain(mallory.email);
    attacks.push(
      await rewriteJson<DirectoryResponse>(
        patientPage,
        { method: 'GET', path: '/api/users' },
        (b) => ({ users: b.users.length > 0 && entry ? [{ ...entry, name: dana.name }] : [] }),
      ),
    );
    const recordId = await createNote(patientPage, 'Allergy list', 'Penicillin: hives');
    const since = captured.length;
    expect(await findToShare(patientPage, recordId, dana)).toBe(true);
    await alertWith(patientPage, /lists another key for Dr Dana Fox/).waitFor({ timeout: 60_000 });
    expect(await patientPage.getByRole('button', { name: `Share with ${dana.name}` }).count()).toBe(
      0,
    );
    expect(grantsSent(captured, since)).toEqual([]);
  });

  it('when the operator logs an attacker’s key for a doctor, then her own client alerts at her next login, with the date', async () => {
    const at = new Date(Date.UTC(2026, 10, 28, 9, 30));
    await operatorLog(suite.server).bind({ id: ids.omar, email: omar.email }, malloryPublicKey, at);
    const page = await extraDevice(suite.browser, captured);
    await loginAs(page, suite.server.baseUrl, omar);
    const alert = alertWith(page, 'A different key was published for you on');
    await alert.waitFor({ timeout: 60_000 });
    const shown = await page.evaluate(
      (ms) =>
        new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(
          new Date(ms),
        ),
      at.getTime(),
    );
    await expect(alert.textContent()).resolves.toContain(
      `A different key was published for you on ${shown}`,
    );
    const rogue = await keyIdentityOf(malloryPublicKey);
    expect(await page.locator(`[data-kt-foreign="${rogue.fingerprint}"]`).count()).toBe(1);
    // The patient's own login finds nothing of the kind.
    expect(await patientPage.getByText('A different key was published').count()).toBe(0);
  });

  it('when a doctor acknowledges the alert, then her next login shows it as acknowledged, and a new, different key in full again', async () => {
    const first = await extraDevice(suite.browser, captured);
    await loginAs(first, suite.server.baseUrl, omar);
    const banner = alertWith(first, 'A different key was published for you on');
    await banner.waitFor({ timeout: 60_000 });
    const saved = first.waitForResponse(
      (r) => r.url().includes('/api/account-state') && r.request().method() === 'PUT',
      { timeout: 60_000 },
    );
    await first
      .getByTestId('kt-alerts')
      .getByRole('button', { name: 'I have read this alert' })
      .click();
    expect((await saved).ok()).toBe(true);
    await first.getByTestId('kt-acknowledged').waitFor();
    expect(await banner.count()).toBe(0);

    // Another device: the alert is not lost, and not shouted again.
    const second = await extraDevice(suite.browser, captured);
    await loginAs(second, suite.server.baseUrl, omar);
    const kept = second.getByTestId('kt-acknowledged');
    await kept.waitFor({ timeout: 60_000 });
    await expect(kept.textContent()).resolves.toContain('Acknowledged security alerts (1)');
    await kept.getByText('Acknowledged security alerts (1)').click();
    await expect(kept.textContent()).resolves.toContain('A different key was published for you on');
    expect(await alertWith(second, 'A different key was published').count()).toBe(0);

    // A new, different event: a second key logged for him. Shown in full again, with its date.
    const other = await generateUserKey({ name: omar.name, email: omar.email });
    const at = new Date(Date.UTC(2026, 11, 1, 8, 15));
    await operatorLog(suite.server).bind({ id: ids.omar, email: omar.email }, other.publicKey, at);
    const third = await extraDevice(suite.browser, captured);
    await loginAs(third, suite.server.baseUrl, omar);
    const again = alertWith(third, 'A different key was published for you on');
    await again.first().waitFor({ timeout: 60_000 });
    await expect(again.first().textContent()).resolves.toContain(
      `A different key was published for you on ${await shownDate(third, at)}`,
    );
  });

  it('when the operator logs an attacker’s key for a doctor and shows her the log without it, then her own client sees that key once a patient’s head from the real log reaches her', async () => {
    const vera = doctor('Dr Vera Quinn', 'vera@clinic.example');
    const nico = doctor('Dr Nico Hale', 'nico@clinic.example');
    const v = await registerUser(suite.server.baseUrl, vera);
    const recordId = await createNote(patientPage, 'Thyroid panel', 'TSH 2.1 mU/L, free T4 normal');
    expect(await shareWith(patientPage, recordId, vera)).toBe('shared');

    // The operator logs Mallory's key for Vera (to hand it to her next patients)...
    const op = operatorLog(suite.server);
    const at = new Date(Date.UTC(2026, 10, 30, 14, 5));
    const rogueIndex = await op.bind({ id: v.id, email: vera.email }, malloryPublicKey, at);
    // ...while the patient, sharing with a doctor who registered since, moves to the real head.
    await registerUser(suite.server.baseUrl, nico);
    expect(await shareWith(patientPage, recordId, nico)).toBe('shared');

    // Vera is shown the log without that leaf, signed with the log key: her login finds nothing.
    const page = await extraDevice(suite.browser, captured);
    const fork = (await op.leaves()).filter((_, i) => i !== rogueIndex);
    attacks.push(
      ...(await serveForkedLog(page, {
        leaves: fork,
        logKey: suite.server.settings.secrets.ktLogKey,
        me: v.id,
        beyond: 'real',
      })),
    );
    await loginAs(page, suite.server.baseUrl, vera);
    await openRecordPage(page, recordId, page.getByText('TSH 2.1 mU/L, free T4 normal'));

    // The patient's grant carries the real head: a split view, and under that head her own
    // history must hold the attacker's key, which her client then shows her with its date.
    await alertWith(
      page,
      'the server shows you a different public key log than it showed others',
    ).waitFor({ timeout: 60_000 });
    const alert = alertWith(page, 'A different key was published for you on');
    await alert.waitFor({ timeout: 60_000 });
    await expect(alert.textContent()).resolves.toContain(
      `A different key was published for you on ${await shownDate(page, at)}`,
    );
    expect(
      await page
        .locator(`[data-kt-foreign="${(await keyIdentityOf(malloryPublicKey)).fingerprint}"]`)
        .count(),
    ).toBe(1);
    expect(attacks.every((a) => a.hits > 0)).toBe(true);
    await settled(page);
  });

  /**
   * A team `name` created by a new admin `admin` through the API, and change 1 of it logged by
   * the operator only: what a second history of the team (an intruder added with a stolen admin
   * key, shown to some patients) needs to be accepted. Returns the operator's leaf index.
   */
  async function teamWithForeignChange(admin: Account, name: string, at: Date) {
    const t = await registerUser(suite.server.baseUrl, admin);
    const practice = await api<{ id: string; name: string }>(t.session, 'POST', '/practices', {
      name: `${name} practice`,
    });
    const teamKey = await generateTeamKey();
    const teamId = randomBytes(16).toString('base64url');
    const founder = {
      userId: t.id as UserId,
      fingerprint: t.key.fingerprint,
      role: 'doctor' as const,
      admin: true,
    };
    const made = await signTeamStatement({
      state: null,
      teamId,
      change: {
        type: 'create',
        practiceId: practice.id,
        practiceName: practice.name,
        name,
        founder,
        teamKey: teamKey.ref,
      },
      signerId: t.id as UserId,
      signerKey: t.key.privateKey,
    });
    const envelope = await wrapTeamKey({
      teamKey: teamKey.privateKey,
      context: { teamId, gen: 1, memberId: t.id },
      memberPublicKey: t.key.publicKey,
    });
    await api(t.session, 'POST', `/practices/${practice.id}/teams`, {
      statement: made.signed,
      teamPublicKey: teamKey.publicKey,
      keyEnvelopes: [{ memberId: t.id, message: envelope }],
    });
    const index = await operatorLog(suite.server).append(
      encodeBinding({
        ...teamStatementBindingOf(made.state, at.getTime()),
        seq: 1,
        statementHash: 'A'.repeat(43),
      }),
    );
    return { teamId, index, practiceName: practice.name };
  }

  it('when the operator logs a change of a team that no admin signed, then sharing with the team is blocked with the reason, and its admin is alerted at login with the date', async () => {
    const ted = doctor('Dr Ted Admin', 'ted@riverside.example');
    const at = new Date(Date.UTC(2026, 11, 2, 16, 45));
    const { practiceName } = await teamWithForeignChange(ted, 'Oncology', at);

    const since = captured.length;
    await createNote(patientPage, 'Biopsy report', 'Benign, margins clear');
    await patientPage.getByRole('button', { name: 'Share…' }).click();
    await patientPage.getByLabel('Team name').fill('Onco');
    await patientPage.getByRole('button', { name: 'Search teams' }).click();
    await patientPage.getByRole('button', { name: `Oncology (${practiceName})` }).click();
    await alertWith(patientPage, 'Sharing with the team Oncology is blocked').waitFor({
      timeout: 60_000,
    });
    await expect(
      alertWith(patientPage, 'Sharing with the team Oncology is blocked').textContent(),
    ).resolves.toContain(
      'holds changes of this team (members or team key) that are not in the history the server showed you',
    );
    expect(await patientPage.getByRole('button', { name: 'Share with Oncology' }).count()).toBe(0);
    expect(grantsSent(captured, since)).toEqual([]);

    const page = await extraDevice(suite.browser, captured);
    await loginAs(page, suite.server.baseUrl, ted);
    const alert = alertWith(
      page,
      'A team key or membership change (change 1) was published for Oncology on',
    );
    await alert.waitFor({ timeout: 60_000 });
    await expect(alert.textContent()).resolves.toContain(
      `was published for Oncology on ${await shownDate(page, at)}`,
    );
  });

  it('when a team she never joined names a doctor as its member, then her client shows it at her next login with the team and the date, until she acknowledges it', async () => {
    // A team made with another doctor's admin key (the operator's own account, or a stolen key):
    // Yara "joins" it without knowing, so that patients see her as attested there.
    const yara = doctor('Dr Yara Stein', 'yara@clinic.example');
    const eve = doctor('Dr Eve Stone', 'eve@quickscripts.example');
    const [y, e] = await Promise.all([
      registerUser(suite.server.baseUrl, yara),
      registerUser(suite.server.baseUrl, eve),
    ]);
    const team = await createTeam(e, 'Pain Relief', 'Quick Scripts');
    await addMember(team, e, y);
    const logged = (await operatorLog(suite.server).leaves())
      .map((d) => parseBinding(d))
      .find((b) => b.type === 'team-member' && b.userId === y.id);
    if (!logged) throw new Error('no membership leaf for Yara');

    const page = await extraDevice(suite.browser, captured);
    await loginAs(page, suite.server.baseUrl, yara);
    const alert = alertWith(
      page,
      'the public key log lists you as a member of the care team Pain Relief (Quick Scripts)',
    );
    await alert.waitFor({ timeout: 60_000 });
    await expect(alert.textContent()).resolves.toContain(
      `On ${await shownDate(page, new Date(logged.at))} a statement signed by the key`,
    );
    await expect(alert.textContent()).resolves.toContain(
      'made you a doctor in Pain Relief (Quick Scripts)',
    );
    expect(await page.locator(`[data-kt-membership="${team.id}:1"]`).count()).toBe(1);
    const saved = page.waitForResponse(
      (r) => r.url().includes('/api/account-state') && r.request().method() === 'PUT',
      { timeout: 60_000 },
    );
    await alert.getByRole('button', { name: 'I have read this alert' }).click();
    expect((await saved).ok()).toBe(true);
    await page.getByTestId('kt-acknowledged').waitFor();
    expect(await alert.count()).toBe(0);

    // The founder's own team, signed with her own key, is nothing to show her.
    const evePage = await extraDevice(suite.browser, captured);
    const checked = evePage.waitForResponse((r) => r.url().includes('/api/kt/memberships'), {
      timeout: 60_000,
    });
    await loginAs(evePage, suite.server.baseUrl, eve);
    expect((await checked).ok()).toBe(true);
    // Her history holds the team's creation, signed by her: the check finds nothing to show.
    await evePage.waitForTimeout(2_000);
    expect(await evePage.locator('[data-kt-membership]').count()).toBe(0);
  });

  // The leaf's signer field is the operator's to write: naming her own key over a statement
  // another key signed must not make it hers.
  it('when the operator logs a membership for a doctor naming her own key as the signer of a statement another key signed, then her client shows it at her next login', async () => {
    const zed = doctor('Dr Zed Moss', 'zed@clinic.example');
    const fay = doctor('Dr Fay Rook', 'fay@quickscripts.example');
    const kim = doctor('Dr Kim Lowe', 'kim@quickscripts.example');
    const [z, f, k] = await Promise.all(
      [zed, fay, kim].map((a) => registerUser(suite.server.baseUrl, a)),
    );
    if (!z || !f || !k) throw new Error('registration failed');
    const team = await createTeam(f, 'Night Clinic', 'Quick Scripts');
    await addMember(team, f, k);
    const op = operatorLog(suite.server);
    const kimLeaf = (await op.leaves())
      .map((d) => parseBinding(d))
      .find((b) => b.type === 'team-member' && b.userId === k.id);
    if (kimLeaf?.type !== 'team-member') throw new Error('no membership leaf for Kim');
    await op.append(encodeBinding({ ...kimLeaf, userId: z.id, by: z.key.fingerprint }));

    const page = await extraDevice(suite.browser, captured);
    await loginAs(page, suite.server.baseUrl, zed);
    await alertWith(
      page,
      'the public key log lists you as a member of the care team Night Clinic (Quick Scripts)',
    ).waitFor({ timeout: 60_000 });
  });

  // Gossip: a record that carries a newer head than hers makes her client ask for the newer head;
  // any answer but that head is the server's choice, as for a consistency proof. The head is
  // withheld from her tab before the log grows, so no refresh (a live notice of the share) can
  // give her the newer head first.
  it('when a record carries a newer head of the log than hers and the server will not give her that head, then her client shows a split view', async () => {
    const danaPage = await extraDevice(suite.browser, captured);
    await loginAs(danaPage, suite.server.baseUrl, dana);
    // Settled: her checks at login are done, so her tab holds the head they ran under.
    await settled(danaPage);
    const withheld = await answerWithout(
      danaPage,
      { method: 'GET', path: '/api/kt/head' },
      { status: 500, json: { error: { code: 'internal', message: 'Something went wrong.' } } },
    );
    attacks.push(withheld);
    // The log grows past the head Dana's tab holds; a device of the patient's that logs in now
    // signs the newer head into what it writes and shares.
    await registerUser(suite.server.baseUrl, doctor('Dr Ira Quinn', 'ira@clinic.example'));
    const patientDevice = await extraDevice(suite.browser, captured);
    await loginAs(patientDevice, suite.server.baseUrl, patient);
    const recordId = await createNote(patientDevice, 'Ankle X-ray', 'No fracture');
    expect(await shareWith(patientDevice, recordId, dana)).toBe('shared');
    await openRecordPage(danaPage, recordId, danaPage.getByText('No fracture'));
    await alertWith(
      danaPage,
      'the server shows you a different public key log than it showed others',
    ).waitFor({ timeout: 60_000 });
    expect(withheld.hits).toBeGreaterThan(0);
  });

  // A team's statements sign keys, not names. The operator founds a team and signs another key
  // in under a doctor's id (logged, so the team's history proves); the directory and the log
  // bind that id to the doctor's own key, so the member is shown by key, never by his name.
  it('when a team the operator founded lists a doctor’s id with another key, then the team’s members never show his name', async () => {
    const front = await registerUser(
      suite.server.baseUrl,
      doctor('Dr Ivo Front', 'ivo@front.example'),
    );
    if (!front) throw new Error('registration failed');
    const team = await createTeam(front, 'Sleep clinic', 'Front Health');
    const operatorKey = await generateUserKey({ name: omar.name, email: omar.email });
    const forged = await signTeamStatement({
      state: team.state,
      change: {
        type: 'add',
        member: {
          userId: ids.omar as UserId,
          fingerprint: operatorKey.fingerprint,
          role: 'doctor',
          admin: true,
        },
      },
      signerId: front.id as UserId,
      signerKey: front.key.privateKey,
    });
    await operatorLog(suite.server).append(
      encodeBinding(teamStatementBindingOf(forged.state, Date.now())),
    );
    attacks.push(
      await rewriteJson<TeamStatementsResponse>(
        patientPage,
        { method: 'GET', path: `/api/teams/${team.id}/statements` },
        (body) => ({
          ...body,
          statements: [...body.statements, { seq: forged.statement.seq, signed: forged.signed }],
          headSeq: forged.statement.seq,
        }),
      ),
    );
    await createNote(patientPage, 'Sleep study', 'Mild apnoea');
    await patientPage.getByRole('button', { name: 'Share…' }).click();
    await patientPage.getByLabel('Team name').fill('Sleep');
    await patientPage.getByRole('button', { name: 'Search teams' }).click();
    await patientPage.getByRole('button', { name: 'Sleep clinic (Front Health)' }).click();
    const members = patientPage.getByRole('list', { name: 'Members of Sleep clinic' });
    await members.getByText(/^Unknown person \(key /).waitFor({ timeout: 60_000 });
    expect(await members.innerText()).not.toContain(omar.name);
    expect(totalHits(attacks)).toBeGreaterThan(0);
  });

  it('when one patient is shown a forked log, then the doctor reading her grant and record sees a split view, and the auditor refuses the fork', async () => {
    const op = operatorLog(suite.server);
    const logKey = suite.server.settings.secrets.ktLogKey;
    const logPublicKey = logPublicKeyOf(logKey);
    const audited = await auditOnce({ url: suite.server.baseUrl, logPublicKey, stored: null });
    if (audited.status !== 'ok') throw new Error('the first audit round failed');

    // The fork: the real log so far plus a leaf only this patient is shown (the attacker's key
    // for Dr Cara), signed with the log key like any head.
    const real = await op.leaves();
    const rogue = await keyIdentityOf(malloryPublicKey);
    const forkLeaves = [
      ...real,
      encodeBinding({
        v: 1,
        type: 'user-key',
        userId: ids.cara,
        email: cara.email,
        ...rogue,
        at: Date.now(),
      }),
    ];

    // Everyone else meanwhile sees the real log grow past the fork.
    await registerUser(suite.server.baseUrl, {
      role: 'doctor',
      name: 'Dr Nia Newcomb',
      email: 'nia@practice.example',
      password: 'Thistle-Comet-Raven-23',
    });
    const grown = await auditOnce({
      url: suite.server.baseUrl,
      logPublicKey,
      stored: audited.head,
    });
    if (grown.status !== 'ok') throw new Error('the second audit round failed');

    const page = await extraDevice(suite.browser, captured);
    const patientId =
      (
        await suite.server.connection
          .collection<{ _id: string; email: string }>('users')
          .findOne({ email: patient.email })
      )?._id ?? '';
    attacks.push(
      ...(await serveForkedLog(page, {
        leaves: forkLeaves,
        logKey,
        me: patientId,
        beyond: 'refuse',
      })),
    );
    await loginAs(page, suite.server.baseUrl, patient);
    const recordId = await createNote(page, 'Knee MRI', 'Small tear of the medial meniscus');
    expect(await shareWith(page, recordId, dana)).toBe('shared');
    expect(attacks.every((a) => a.hits > 0)).toBe(true);

    // Dana, on the real log, reads the record: the patient's grant and envelope carry the fork's head.
    const danaPage = await extraDevice(suite.browser, captured);
    await loginAs(danaPage, suite.server.baseUrl, dana);
    await openRecordPage(
      danaPage,
      recordId,
      danaPage.getByText('Small tear of the medial meniscus'),
    );
    await alertWith(
      danaPage,
      'the server shows you a different public key log than it showed others',
    ).waitFor({ timeout: 60_000 });
    await expect(
      alertWith(
        danaPage,
        'Iris Patient’s record was written with a view of the public key log that does not match yours',
      ).count(),
    ).resolves.toBe(1);
    await settled(danaPage);

    // The auditor, shown the same fork, refuses it: it does not extend the tree it saw.
    await op.rewrite(forkLeaves);
    await expect(
      auditOnce({ url: suite.server.baseUrl, logPublicKey, stored: grown.head }),
    ).resolves.toMatchObject({ status: 'failed', code: 'kt-inconsistent' });
  });

  it('when the operator logs an attacker’s key for a doctor and leaves it out of the listing her browser gets, then the map still counts it and her client alerts; a wrong map proof is refused with the reason', async () => {
    const zoe = doctor('Dr Zoe Park', 'zoe@clinic.example');
    const z = await registerUser(suite.server.baseUrl, zoe);
    const rogueIndex = await operatorLog(suite.server).bind(
      { id: z.id, email: zoe.email },
      malloryPublicKey,
      new Date(Date.UTC(2026, 11, 3, 7, 0)),
    );

    const page = await extraDevice(suite.browser, captured);
    const omit = await rewriteJson<KtHistoryResponse>(
      page,
      { method: 'GET', path: '/api/kt/history' },
      (real) => ({ ...real, bindings: real.bindings.filter((b) => b.leaf.index !== rogueIndex) }),
    );
    attacks.push(omit);
    await loginAs(page, suite.server.baseUrl, zoe);
    await alertWith(
      page,
      'The log holds a key for your account that the server hid from you',
    ).waitFor({ timeout: 60_000 });
    await expect(
      alertWith(page, 'a key that is not yours was published for your account').count(),
    ).resolves.toBe(1);
    expect(await page.locator('[data-kt-withheld="1"]').count()).toBe(1);
    expect(omit.hits).toBeGreaterThan(0);
    await settled(page);

    // The server also bends the map's proof to fit its listing: refused, and the user is told why.
    await stopAll(attacks);
    const second = await extraDevice(suite.browser, captured);
    const bent = await rewriteJson<KtHistoryResponse>(
      second,
      { method: 'GET', path: '/api/kt/history' },
      (real) => ({
        ...real,
        bindings: real.bindings.filter((b) => b.leaf.index !== rogueIndex),
        map: { entry: null, siblings: [] },
      }),
    );
    attacks.push(bent);
    await loginAs(second, suite.server.baseUrl, zoe);
    await alertWith(
      second,
      'The server’s proof of what the public key log holds for your account is wrong',
    ).waitFor({ timeout: 60_000 });
    expect(bent.hits).toBeGreaterThan(0);
    await settled(second);
  });

  // CI5 on 2026-12-05: one 503 under load at login raised this alert for the whole session.
  it('when the server does not answer the self-check at login (503), then the app asks again and shows no alert once it answers; when it never answers, the alert says so and “Check again” runs it', async () => {
    const ravi = doctor('Dr Ravi Shah', 'ravi@clinic.example');
    await registerUser(suite.server.baseUrl, ravi);
    const history = { method: 'GET', path: '/api/kt/history' } as const;
    const unavailable = {
      status: 503,
      json: { error: { code: 'database-unavailable', message: 'The database is not answering.' } },
    };
    const notChecked = (page: Page) =>
      alertWith(page, 'your own entries in the public key log could not be checked');
    const checking = (page: Page) =>
      page.getByText(
        'Checking the public key log for keys and team memberships published in your name',
      );
    const checked = (page: Page) =>
      page.waitForResponse(
        (r) => new URL(r.url()).pathname === history.path && r.status() === 200,
        { timeout: 60_000 },
      );

    // Refused once: asked again, checked, no alert.
    const once = await extraDevice(suite.browser, captured);
    const refuseFirst = await answerWithout(once, history, unavailable);
    attacks.push(refuseFirst);
    const refused = once.waitForResponse(
      (r) => new URL(r.url()).pathname === history.path && r.status() === 503,
      { timeout: 60_000 },
    );
    const answered = checked(once);
    await loginAs(once, suite.server.baseUrl, ravi);
    await refused;
    // While it is asked again, the page says the check is still running.
    await checking(once).waitFor({ timeout: 60_000 });
    expect(await checking(once).getAttribute('aria-busy')).toBe('true');
    await stopAll(attacks);
    expect(refuseFirst.hits).toBeGreaterThan(0);
    await answered;
    await settled(once);
    expect(await notChecked(once).count()).toBe(0);
    expect(await checking(once).count()).toBe(0);

    // Refused every time: after the retries, the alert says the server did not answer.
    const never = await extraDevice(suite.browser, captured);
    const refuseAll = await answerWithout(never, history, unavailable);
    attacks.push(refuseAll);
    await loginAs(never, suite.server.baseUrl, ravi);
    await notChecked(never).waitFor({ timeout: 60_000 });
    expect(refuseAll.hits).toBeGreaterThanOrEqual(6); // the first ask and five more
    expect(await checking(never).count()).toBe(0);
    await expect(notChecked(never).textContent()).resolves.toContain(
      'The database is not answering.',
    );
    // The server answers again: "Check again" runs the check, and the alert goes.
    await stopAll(attacks);
    const rechecked = checked(never);
    await never.getByRole('button', { name: 'Check again' }).click();
    await rechecked;
    await notChecked(never).waitFor({ state: 'detached', timeout: 60_000 });
  });

  it('when the operator logs a team change and leaves it out of the team listing its admin’s browser gets, then the admin is alerted at login', async () => {
    const uma = doctor('Dr Uma Stone', 'uma@hillside.example');
    const { teamId, index } = await teamWithForeignChange(
      uma,
      'Cardiology',
      new Date(Date.UTC(2026, 11, 3, 9, 0)),
    );
    const page = await extraDevice(suite.browser, captured);
    const omit = await rewriteJson<KtHistoryResponse>(
      page,
      { method: 'GET', path: `/api/kt/teams/${teamId}/history` },
      (real) => ({ ...real, bindings: real.bindings.filter((b) => b.leaf.index !== index) }),
    );
    attacks.push(omit);
    await loginAs(page, suite.server.baseUrl, uma);
    await alertWith(
      page,
      'The log holds a change of Cardiology that the server hid from you',
    ).waitFor({ timeout: 60_000 });
    expect(await page.locator('[data-kt-team-withheld="1"]').count()).toBe(1);
    // Nothing of the change itself was shown: only that it exists.
    expect(await page.locator('[data-kt-team-change]').count()).toBe(0);
    expect(omit.hits).toBeGreaterThan(0);
    await settled(page);
  });
});
