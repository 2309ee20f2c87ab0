// Bench (issue 5): 1,000 records shared with one user → time to the first screen of decrypted
// titles and to all 1,000 in Chromium, beside the baseline of 1,000 sequential openRecord calls
// (in-process, Node) in the same run; and the gzip size of the first page's JavaScript, with
// openpgp / hash-wasm only in the worker chunk. Then, with the 1,000 titles decrypted (and so
// indexed), searches of the list (issue 14: ≤ 100 ms each), and how long a record the doctor
// writes for the patient takes to appear, marked new, in her open list (issue 14: ≤ 2 s).
// Writes bench/results.json.
//   pnpm --filter @medseal/web bench        (builds the app first)
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';
import { startDevDb } from '@medseal/devdb';
import { startTestServer } from '@medseal/server/testing';
import * as pgp from '@medseal/crypto';
import type { Fingerprint, RecordId, UserId } from '@medseal/crypto';
import type { Browser } from 'playwright-core';
import { launchBrowser, newDevice, pageErrors } from '../e2e/support/browser';
import { loginAs } from '../e2e/support/app';
import { api, registerUser } from '../e2e/support/api';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1000);
const root = process.cwd();
const dist = join(root, 'dist');
const results: Record<string, { value: number; unit: string }> = {};
const put = (name: string, value: number, unit: string) => {
  results[name] = { value: Math.round(value * 100) / 100, unit };
  console.log(`${name.padEnd(48)} ${results[name]?.value} ${unit}`);
};

function recordId(): string {
  return Buffer.from(pgp.createSaltSeed(), 'base64url').subarray(0, 16).toString('base64url');
}

function bundleSizes() {
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const first = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1] ?? '');
  const assets = readdirSync(join(dist, 'assets'));
  const gz = (f: string) => gzipSync(readFileSync(join(dist, f))).length / 1024;
  let firstTotal = 0;
  for (const f of first) firstTotal += gz(f);
  put('first_page_js_gzip', firstTotal, 'KiB');
  const worker = assets.filter((a) => a.startsWith('worker-') && a.endsWith('.js'));
  let workerTotal = 0;
  for (const w of worker) workerTotal += gz(`assets/${w}`);
  put('worker_js_gzip', workerTotal, 'KiB');
  const firstText = first.map((f) => readFileSync(join(dist, f), 'utf8')).join('\n');
  const workerText = worker.map((w) => readFileSync(join(dist, 'assets', w), 'utf8')).join('\n');
  // Marker strings of the two libraries: openpgp's name in its version string, hash-wasm's argon2 wasm loader.
  const openpgpInFirst = firstText.includes('OpenPGP.js') ? 1 : 0;
  const hashWasmInFirst = /argon2id.*WebAssembly|WebAssembly.*argon2/s.test(firstText) ? 1 : 0;
  put('openpgp_in_first_page_js', openpgpInFirst, 'bool');
  put('hash_wasm_in_first_page_js', hashWasmInFirst, 'bool');
  put('openpgp_in_worker_js', workerText.includes('OpenPGP.js') ? 1 : 0, 'bool');
}

const SHARED = 100;

/**
 * Sharing several records at once (issue 14): a patient with SHARED notes of her own selects
 * them all in the list and shares them with a doctor; from the click that starts sharing to the
 * dialog saying all were shared (each fetched, verified, a packet and a signed grant made, sent).
 */
async function shareManyBench(baseUrl: string, browser: Browser) {
  const account = {
    name: 'Share Patient',
    email: 'share-patient@example.org',
    role: 'patient' as const,
    password: 'Share-Lagoon-Pepper-2026',
  };
  const patient = await registerUser(baseUrl, account);
  await registerUser(baseUrl, {
    name: 'Dr Share',
    email: 'share-doctor@example.org',
    role: 'doctor',
    password: 'Share-Meadow-Anchor-77',
  });
  const recipients = [{ userId: patient.id, fingerprint: patient.key.fingerprint }];
  const records: { id: string; message: string }[] = [];
  for (let i = 0; i < SHARED; i += 1) {
    const id = recordId();
    const content = {
      v: 1,
      kind: 'note',
      title: `Knee note ${i}`,
      date: '2026-11-27',
      body: 'Physio twice a week.',
      attachments: [],
    };
    const { message } = await pgp.sealRecord({
      envelope: {
        recordId: id as RecordId,
        version: 1,
        ownerId: patient.id as UserId,
        authorId: patient.id as UserId,
        createdAt: new Date().toISOString(),
        content,
      },
      authorKey: patient.key.privateKey,
      recipientKeys: [patient.key.publicKey],
    });
    await api(patient.session, 'POST', '/records', {
      recordId: id,
      ownerId: patient.id,
      recipients,
      message,
    });
    records.push({ id, message });
  }
  const { page } = await newDevice(browser, []);
  await loginAs(page, baseUrl, account);
  await page.getByLabel(`Select all ${SHARED} shown`).check({ timeout: 120_000 });
  await page.getByRole('button', { name: `Share these ${SHARED}…` }).click();
  await page.getByLabel('Their email address').fill('share-doctor@example.org');
  await page.getByRole('button', { name: 'Find' }).click();
  await page.getByRole('button', { name: 'Share with Dr Share' }).click();
  const start = performance.now();
  await page.getByRole('button', { name: 'Share without comparing' }).click();
  // The summary (and its Done button) shows once every record was shared or refused.
  await page.getByRole('button', { name: 'Done' }).waitFor({ timeout: 300_000 });
  const elapsed = performance.now() - start;
  const summary = await page.getByRole('dialog').innerText();
  if (!summary.includes(`Shared ${SHARED} records with Dr Share.`))
    throw new Error(`not all shared: ${summary}`);
  await page.close();
  put(`chromium_share_${SHARED}_records_at_once`, elapsed, 'ms');

  // Reference, same run: the server's part alone (grants made in Node beforehand) of sharing the
  // same records with two more doctors, one request per record four at a time (what the app sent
  // before POST /grants), and in batches of 25, one at a time (what it sends now).
  const grantsFor = async (email: string) => {
    const doctor = await registerUser(baseUrl, {
      name: `Dr ${email}`,
      email,
      role: 'doctor',
      password: 'Share-Reference-Kestrel-51',
    });
    return Promise.all(
      records.map(async (r) => {
        const pkesk = await pgp.createRecipientPacket({
          message: r.message,
          myKey: patient.key.privateKey,
          newRecipientKey: doctor.key.publicKey,
        });
        const grant = {
          recordId: r.id as RecordId,
          granteeUserId: doctor.id as UserId,
          granteeFingerprint: doctor.key.fingerprint as Fingerprint,
          grantedBy: patient.id as UserId,
        };
        const { signedGrant } = await pgp.createGrant({ grant, signerKey: patient.key.privateKey });
        return { recordId: r.id, granteeUserId: doctor.id, signedGrant, pkesk };
      }),
    );
  };
  const single = await grantsFor('share-ref-single@example.org');
  const t0 = performance.now();
  for (let i = 0; i < single.length; i += 4) {
    await Promise.all(
      single
        .slice(i, i + 4)
        .map(({ recordId, ...body }) =>
          api(patient.session, 'POST', `/records/${recordId}/grants`, body),
        ),
    );
  }
  const singleMs = performance.now() - t0;
  put(`reference_server_share_${SHARED}_one_request_each_4_in_flight`, singleMs, 'ms');
  const batched = await grantsFor('share-ref-batch@example.org');
  const t1 = performance.now();
  for (let i = 0; i < batched.length; i += 25) {
    const { results } = await api<{ results: { status: string }[] }>(
      patient.session,
      'POST',
      '/grants',
      { grants: batched.slice(i, i + 25) },
    );
    if (results.some((r) => r.status !== 'shared'))
      throw new Error(`batch refused: ${JSON.stringify(results)}`);
  }
  const batchMs = performance.now() - t1;
  put(`server_share_${SHARED}_in_batches_of_25`, batchMs, 'ms');
  put('server_share_batch_speedup_vs_one_request_each', singleMs / batchMs, 'x');
}

/** 1,000 records in one list: decrypting titles, searching them, a new one pushed to the open tab. */
async function listBench(baseUrl: string, browser: Browser) {
  const patientAccount = {
    name: 'Bench Patient',
    email: 'bench-patient@example.org',
    role: 'patient' as const,
    password: 'Bench-Granite-Tulip-2026',
  };
  const patient = await registerUser(baseUrl, patientAccount);
  const doctor = await registerUser(baseUrl, {
    name: 'Dr Bench',
    email: 'bench-doctor@example.org',
    role: 'doctor',
    password: 'Bench-Harbor-Violet-88',
  });
  // The doctor writes for her only under her signed consent (DESIGN §13).
  const { signedConsent } = await pgp.createConsent({
    consent: {
      patientId: patient.id,
      subject: { kind: 'person', id: doctor.id, fingerprint: doctor.key.fingerprint },
      seq: 1,
    },
    patientKey: patient.key.privateKey,
  });
  await api(patient.session, 'PUT', `/patients/${patient.id}/consents/${doctor.id}`, {
    signedConsent,
  });

  // Seed: the doctor writes RECORDS notes for the patient (encrypted to both).
  const messages: { id: string; message: string }[] = [];
  const recipients = [
    { userId: patient.id, fingerprint: patient.key.fingerprint },
    { userId: doctor.id, fingerprint: doctor.key.fingerprint },
  ];
  const seedStart = performance.now();
  for (let i = 0; i < RECORDS; i += 1) {
    const id = recordId();
    // Every tenth record mentions the knee, every hundredth the shoulder (what the searches find).
    const body = `Routine check, all values in range.${i % 10 === 0 ? ' Knee swollen after running.' : ''}${i % 100 === 0 ? ' Shoulder stiff.' : ''}`;
    const content = {
      v: 1,
      kind: 'note',
      title: `Bench record ${String(i).padStart(4, '0')}`,
      date: '2026-11-27',
      body,
      attachments: [],
    };
    const { message } = await pgp.sealRecord({
      envelope: {
        recordId: id as RecordId,
        version: 1,
        ownerId: patient.id as UserId,
        authorId: doctor.id as UserId,
        createdAt: new Date().toISOString(),
        content,
      },
      authorKey: doctor.key.privateKey,
      recipientKeys: [patient.key.publicKey, doctor.key.publicKey],
    });
    messages.push({ id, message });
  }
  for (let i = 0; i < messages.length; i += 16) {
    await Promise.all(
      messages.slice(i, i + 16).map((m) =>
        api(doctor.session, 'POST', '/records', {
          recordId: m.id,
          ownerId: patient.id,
          recipients,
          message: m.message,
        }),
      ),
    );
  }
  console.log(
    `seeded ${RECORDS} records in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
  );

  // Baseline: 1,000 sequential openRecord calls in-process (Node), same messages.
  const t0 = performance.now();
  for (const m of messages) {
    const r = await pgp.openRecord({
      message: m.message,
      myKey: patient.key.privateKey,
      expect: {
        recordId: m.id as RecordId,
        version: 1,
        ownerId: patient.id as UserId,
        authorId: doctor.id as UserId,
        authorPublicKey: doctor.key.publicKey,
        recipients: recipients.map((r) => r.fingerprint as Fingerprint),
      },
    });
    if (r.status !== 'verified') throw new Error(`baseline openRecord: ${r.status}`);
  }
  put(`baseline_${RECORDS}_sequential_openRecord_node`, performance.now() - t0, 'ms');

  // Chromium: log in, leave the list, then time a cold list (fresh tab cache after lock/unlock).
  const { page } = await newDevice(browser, []);
  await loginAs(page, baseUrl, patientAccount);
  await page
    .getByText(`${RECORDS} of ${RECORDS} records`, { exact: true })
    .waitFor({ timeout: Number(process.env.BENCH_TIMEOUT_MS ?? 300_000) })
    .catch(async (e: unknown) => {
      await page.screenshot({
        path: join(root, 'e2e-artifacts', 'bench-failure.png'),
        fullPage: true,
      });
      console.error(pageErrors.join('\n'));
      throw e;
    });
  await page.getByRole('button', { name: 'Lock now' }).click();
  await page.getByLabel('Password', { exact: true }).fill(patientAccount.password);
  const listRequest = page.waitForRequest((r) => r.url().includes('/api/records?'), {
    timeout: 120_000,
  });
  await page.getByRole('button', { name: 'Unlock' }).click();
  await listRequest;
  const start = performance.now();
  const listResponse = page
    .waitForResponse((r) => r.url().includes('/api/records?'), { timeout: 120_000 })
    .then(() => performance.now() - start);
  let lastListResponse = 0;
  page.on('response', (r) => {
    if (r.url().includes('/api/records?')) lastListResponse = performance.now() - start;
  });
  await page.waitForFunction(
    () => {
      const rows = [...document.querySelectorAll('[data-record-id]')];
      return rows.length > 0 && rows.every((r) => !r.textContent?.includes('Decrypting'));
    },
    undefined,
    { timeout: 300_000, polling: 10 },
  );
  put('chromium_first_screen_titles', performance.now() - start, 'ms');
  put('chromium_first_screen_of_which_list_api', await listResponse, 'ms');
  await page
    .getByText(`${RECORDS} of ${RECORDS} records`, { exact: true })
    .waitFor({ timeout: 300_000 });
  const all = performance.now() - start;
  put(`chromium_all_${RECORDS}_titles`, all, 'ms');
  put('chromium_all_titles_of_which_list_api_paging', lastListResponse, 'ms');
  put('chromium_decrypting_after_last_page', all - lastListResponse, 'ms');

  // Search, index built: from the query typed (an input event, as a keystroke gives) to the
  // list showing exactly its matches, timed inside the page (no test-driver round trips).
  const searches: [string, number][] = [
    ['knee', RECORDS / 10],
    ['shoulder knee', RECORDS / 100],
    ['bench record 0042', 1],
    ['2026-11 routine', RECORDS],
  ];
  const times: number[] = [];
  for (const [query, expected] of searches) {
    const ms = await page.evaluate(
      ({ query, done }) =>
        new Promise<number>((resolve, reject) => {
          const box = document.querySelector<HTMLInputElement>('input[type="search"]');
          if (!box) return reject(new Error('no search box'));
          // No named inner functions: tsx's __name helper does not exist in the page.
          const start = performance.now();
          const observer = new MutationObserver(() => {
            if (![...document.querySelectorAll('p[aria-live]')].some((p) => p.textContent === done))
              return;
            observer.disconnect();
            resolve(performance.now() - start);
          });
          observer.observe(document.body, { subtree: true, childList: true, characterData: true });
          // React tracks the value: set it through the prototype's setter, then the input event.
          Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')?.set?.call(
            box,
            query,
          );
          box.dispatchEvent(new Event('input', { bubbles: true }));
        }),
      { query, done: `${expected} of ${RECORDS} records match “${query}”` },
    );
    times.push(ms);
  }
  put(`chromium_search_${RECORDS}_records_slowest_of_${searches.length}`, Math.max(...times), 'ms');
  put(
    `chromium_search_${RECORDS}_records_median_of_${searches.length}`,
    [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)] ?? 0,
    'ms',
  );
  await page.getByRole('searchbox', { name: 'Search records' }).fill('');

  // Pushed to the open tab: the doctor writes one more record for the patient.
  const id = recordId();
  const content = {
    v: 1,
    kind: 'note',
    title: 'Bench live record',
    date: '2026-11-27',
    body: 'Pushed.',
    attachments: [],
  };
  const { message } = await pgp.sealRecord({
    envelope: {
      recordId: id as RecordId,
      version: 1,
      ownerId: patient.id as UserId,
      authorId: doctor.id as UserId,
      createdAt: new Date().toISOString(),
      content,
    },
    authorKey: doctor.key.privateKey,
    recipientKeys: [patient.key.publicKey, doctor.key.publicKey],
  });
  await api(doctor.session, 'POST', '/records', {
    recordId: id,
    ownerId: patient.id,
    recipients,
    message,
  });
  const written = performance.now();
  await page
    .locator(`[data-record-id="${id}"]`)
    .getByText('New', { exact: true })
    .waitFor({ timeout: 30_000 });
  put('chromium_new_record_in_open_list_marked_new', performance.now() - written, 'ms');
  await page.close();
}

async function main() {
  if (!process.argv.includes('--no-build')) await build({ root, logLevel: 'warn' });
  bundleSizes();

  const db = await startDevDb({ mongodbUri: process.env.MONGODB_URI, log: () => undefined });
  // As in production: the server does not parse its own answers with the contract (tests do).
  const server = await startTestServer({
    mongoUri: `${db.uri.replace(/\/$/, '')}/medseal_bench_${Date.now()}`,
    webDist: dist,
    settings: { checkResponses: false },
  });
  const browser = await launchBrowser();
  try {
    // BENCH_PART=share: only sharing several records (a quick run while working on it).
    if (process.env.BENCH_PART !== 'share') await listBench(server.baseUrl, browser);
    await shareManyBench(server.baseUrl, browser);
  } finally {
    await browser.close();
    await server.close();
    await db.stop();
  }
  if (process.env.BENCH_PART === 'share') return;
  writeFileSync(join(root, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log('wrote bench/results.json');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
