// Key transparency against a malicious server (issue 12, DESIGN §14), in real Chromium. The
// operator rewrites API answers in the victim's browser (Playwright routes) and, holding the log
// key and the database, writes the log itself. Each attack must end in a warning the user sees:
// - a key the log never bound to the person: sharing with them is blocked, with the reason;
// - the log binds an attacker's key to a doctor: her own client alerts at her next login;
// - a forked log shown to one patient: the doctor reading her grant and record sees a split
//   view, and the auditor refuses the forked tree.
import type { Page } from 'playwright-core';
import { bindingLeafHash, encodeBinding, keyIdentityOf, logPublicKeyOf, signTreeHead, type SignedTreeHead } from '@medseal/crypto';
import { generateUserKey } from '@medseal/crypto';
import { memoryLog } from '@medseal/crypto/testing';
import { auditOnce, operatorLog } from '@medseal/server/testing';
import { registerUser } from './support/api';
import { createNote, loginAs, register, type Account } from './support/app';
import { newDevice, type CapturedRequest } from './support/browser';
import { answerFrom, answerWithout, grantsSent, serveKeyAs, stopAll, type Attack } from './support/malicious-server';
import { browserSuite } from './support/suite';
import { closeDevices, extraDevice, findToShare, openRecordPage, settled, shareWith } from './support/victim';

const patient: Account = { role: 'patient', name: 'Iris Patient', email: 'iris@example.org', password: 'Lichen-Marble-Osprey-40' };
const dana: Account = { role: 'doctor', name: 'Dr Dana Fox', email: 'dana@clinic.example', password: 'Quartz-Willow-Harbor-17' };
const omar: Account = { role: 'doctor', name: 'Dr Omar Reyes', email: 'omar@clinic.example', password: 'Saffron-Glacier-Piano-38' };
const cara: Account = { role: 'doctor', name: 'Dr Cara Lee', email: 'cara@practice.example', password: 'Meadow-Copper-Lantern-51' };
const mallory: Account = { role: 'doctor', name: 'Dr Mallory Vance', email: 'mallory@evil.example', password: 'Ember-Falcon-Glacier-64' };

const suite = browserSuite({ readCacheTtlMs: 0 });
const captured: CapturedRequest[] = [];
const attacks: Attack[] = [];
let patientPage: Page;
let ids: Record<'dana' | 'omar' | 'cara' | 'mallory', string>;
let malloryPublicKey = '';

beforeAll(async () => {
  ({ page: patientPage } = await newDevice(suite.browser, captured));
  await register(patientPage, suite.server.baseUrl, patient);
  const [d, o, c, m] = await Promise.all([dana, omar, cara, mallory].map((a) => registerUser(suite.server.baseUrl, a)));
  if (!d || !o || !c || !m) throw new Error('registration failed');
  ids = { dana: d.id, omar: o.id, cara: c.id, mallory: m.id };
  malloryPublicKey = m.key.publicKey;
});

afterEach(async () => {
  await stopAll(attacks);
  await closeDevices();
});

const alertWith = (page: Page, text: string | RegExp) => page.getByRole('alert').filter({ hasText: text });
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('key transparency against a malicious server (real Chromium)', () => {
  it('when the directory serves a key the log never bound to the doctor, then sharing with her is blocked and the page says why', async () => {
    const impostor = await generateUserKey({ name: dana.name, email: dana.email });
    const { fingerprint } = await keyIdentityOf(impostor.publicKey);
    attacks.push(...(await serveKeyAs(patientPage, ids.dana, { publicKey: impostor.publicKey, fingerprint })));
    const recordId = await createNote(patientPage, 'Migraine diary', 'Three episodes this month');
    const since = captured.length;

    // The log holds Dana's real key: the proof the server gives is for another key.
    expect(await findToShare(patientPage, recordId, dana)).toBe(true);
    await alertWith(patientPage, /lists another key for Dr Dana Fox/).waitFor({ timeout: 60_000 });
    await expect(alertWith(patientPage, `Sharing with ${dana.name} is blocked`).count()).resolves.toBe(1);
    expect(await patientPage.getByRole('button', { name: `Share with ${dana.name}` }).count()).toBe(0);

    // The server also denies having logged any key for her: still blocked, another reason.
    const hidden = await answerWithout(
      patientPage,
      { method: 'GET', path: /^\/api\/kt\/users\/[^/]+\/binding$/ },
      { status: 404, json: { error: { code: 'kt-not-logged', message: 'The log holds no key for this user in that tree.' } } },
    );
    attacks.push(hidden);
    await patientPage.getByRole('button', { name: 'Find' }).click();
    await alertWith(patientPage, /not in the public key log/).waitFor({ timeout: 60_000 });
    expect(hidden.hits).toBeGreaterThan(0);
    expect(await patientPage.getByRole('button', { name: `Share with ${dana.name}` }).count()).toBe(0);
    expect(grantsSent(captured, since)).toEqual([]);
  });

  it('when the operator logs an attacker’s key for a doctor, then her own client alerts at her next login, with the date', async () => {
    const at = new Date(Date.UTC(2026, 10, 28, 9, 30));
    await operatorLog(suite.server).bind({ id: ids.omar, email: omar.email }, malloryPublicKey, at);
    const page = await extraDevice(suite.browser, captured);
    await loginAs(page, suite.server.baseUrl, omar);
    const alert = alertWith(page, 'A different key was published for you on');
    await alert.waitFor({ timeout: 60_000 });
    const shown = await page.evaluate((ms) => new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(ms)), at.getTime());
    await expect(alert.textContent()).resolves.toContain(`A different key was published for you on ${shown}`);
    const rogue = await keyIdentityOf(malloryPublicKey);
    expect(await page.locator(`[data-kt-foreign="${rogue.fingerprint}"]`).count()).toBe(1);
    // The patient's own login finds nothing of the kind.
    expect(await patientPage.getByText('A different key was published').count()).toBe(0);
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
    const forkLeaves = [...real, encodeBinding({ v: 1, type: 'user-key', userId: ids.cara, email: cara.email, ...rogue, at: Date.now() })];
    const fork = memoryLog(forkLeaves.map(bindingLeafHash));
    const forkHead: SignedTreeHead = signTreeHead({ v: 1, size: fork.size, root: hex(fork.root()), timestamp: Date.now() }, logKey);
    const userOf = (i: number) => (JSON.parse(forkLeaves[i] ?? '{}') as { userId: string }).userId;
    const provenIn = (i: number, size: number) => ({ leaf: { index: i, data: forkLeaves[i] ?? '' }, proof: fork.inclusion(i, size).map(hex) });
    const indexesOf = (userId: string, size: number) => forkLeaves.map((_, i) => i).filter((i) => i < size && userOf(i) === userId);
    const badSize = { status: 400, json: { error: { code: 'kt-bad-size', message: 'no signed tree of that size' } } };

    // Everyone else meanwhile sees the real log grow past the fork.
    await registerUser(suite.server.baseUrl, { role: 'doctor', name: 'Dr Nia Newcomb', email: 'nia@practice.example', password: 'Thistle-Comet-Raven-23' });
    const grown = await auditOnce({ url: suite.server.baseUrl, logPublicKey, stored: audited.head });
    if (grown.status !== 'ok') throw new Error('the second audit round failed');

    const page = await extraDevice(suite.browser, captured);
    const patientId = (await suite.server.connection.collection<{ _id: string; email: string }>('users').findOne({ email: patient.email }))?._id ?? '';
    attacks.push(
      await answerFrom(page, { method: 'GET', path: '/api/kt/head' }, () => ({ status: 200, json: forkHead })),
      await answerFrom(page, { method: 'GET', path: '/api/kt/consistency' }, (url) => {
        const from = Number(url.searchParams.get('from'));
        const to = Number(url.searchParams.get('to'));
        return to > fork.size || from > to ? badSize : { status: 200, json: { proof: fork.consistency(from, to).map(hex) } };
      }),
      await answerFrom(page, { method: 'GET', path: /^\/api\/kt\/users\/[^/]+\/binding$/ }, (url) => {
        const size = Number(url.searchParams.get('size'));
        const latest = indexesOf(url.pathname.split('/')[4] ?? '', size).pop();
        if (size > fork.size) return badSize;
        if (latest === undefined) return { status: 404, json: { error: { code: 'kt-not-logged', message: 'not logged' } } };
        return { status: 200, json: provenIn(latest, size) };
      }),
      await answerFrom(page, { method: 'GET', path: '/api/kt/history' }, (url) => {
        const size = Number(url.searchParams.get('size'));
        return size > fork.size ? badSize : { status: 200, json: { size, bindings: indexesOf(patientId, size).map((i) => provenIn(i, size)) } };
      }),
    );
    await loginAs(page, suite.server.baseUrl, patient);
    const recordId = await createNote(page, 'Knee MRI', 'Small tear of the medial meniscus');
    expect(await shareWith(page, recordId, dana)).toBe('shared');
    expect(attacks.every((a) => a.hits > 0)).toBe(true);

    // Dana, on the real log, reads the record: the patient's grant and envelope carry the fork's head.
    const danaPage = await extraDevice(suite.browser, captured);
    await loginAs(danaPage, suite.server.baseUrl, dana);
    await openRecordPage(danaPage, recordId, danaPage.getByText('Small tear of the medial meniscus'));
    await alertWith(danaPage, 'the server shows you a different public key log than it showed others').waitFor({ timeout: 60_000 });
    await expect(alertWith(danaPage, 'Iris Patient’s record was written with a view of the public key log that does not match yours').count()).resolves.toBe(1);
    await settled(danaPage);

    // The auditor, shown the same fork, refuses it: it does not extend the tree it saw.
    await op.rewrite(forkLeaves);
    await expect(auditOnce({ url: suite.server.baseUrl, logPublicKey, stored: grown.head })).resolves.toMatchObject({ status: 'failed', code: 'kt-inconsistent' });
  });
});
