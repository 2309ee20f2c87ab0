// Consent to write (DESIGN §13, issue 10 class 11) in real Chromium: the patient lets a doctor
// write for her when she first shares with him (ticked by default, in plain words), stops it
// on her Contacts page, and the doctor's app and the server both follow what she signed.
import { newDevice, type CapturedRequest } from './support/browser';
import { registerUser } from './support/api';
import { browserSuite } from './support/suite';
import { createNote, go, loginAs, register, type Account } from './support/app';
import { storedUser } from './support/malicious-server';
import {
  findToShare,
  settled,
  SHARE_WITHOUT_VERIFYING,
  shareWith,
  writeNoteFor,
} from './support/victim';

const suite = browserSuite();
const captured: CapturedRequest[] = [];
const patient: Account = {
  role: 'patient',
  name: 'Nora Consent',
  email: 'nora-consent@example.org',
  password: 'Harbor-Quartz-Meadow-38',
};
const doctor: Account = {
  role: 'doctor',
  name: 'Dr Emil Writer',
  email: 'emil-writer@clinic.example',
  password: 'Lantern-Copper-Falcon-64',
};
const stranger: Account = {
  role: 'doctor',
  name: 'Dr Sasha Stranger',
  email: 'sasha@clinic.example',
  password: 'Willow-Cobalt-Heron-27',
};

describe('consent to write, as the patient gives and withdraws it (real Chromium)', () => {
  it('when the patient shares with a doctor leaving “may also write records for you” ticked, then he writes for her; once she stops it on Contacts, his form and the server refuse', async () => {
    const { page: patientPage } = await newDevice(suite.browser, captured);
    await register(patientPage, suite.server.baseUrl, patient);
    await registerUser(suite.server.baseUrl, doctor);
    await registerUser(suite.server.baseUrl, stranger);
    const patientUser = await storedUser(suite.server, patient.email);
    const consents = suite.server.connection.collection<{ _id: string; withdrawnAt?: Date }>(
      'consents',
    );

    // Sharing with a doctor shows the consent in plain words, ticked; unticked for the stranger.
    const first = await createNote(patientPage, 'Allergies', 'Penicillin');
    expect(await findToShare(patientPage, first, stranger)).toBe(true);
    const strangerBox = patientPage.getByRole('checkbox', {
      name: `${stranger.name} may also write records for you`,
    });
    expect(await strangerBox.isChecked()).toBe(true);
    await strangerBox.uncheck();
    const granted = patientPage.waitForResponse(
      (r) => r.request().method() === 'POST' && r.url().endsWith(`/api/records/${first}/grants`),
    );
    await patientPage.getByRole('button', { name: `Share with ${stranger.name}` }).click();
    await patientPage.getByRole('button', { name: SHARE_WITHOUT_VERIFYING }).click();
    expect((await granted).status()).toBe(201);
    await settled(patientPage);
    expect(await shareWith(patientPage, first, doctor)).toBe('shared');
    const doctorUser = await storedUser(suite.server, doctor.email);
    const strangerUser = await storedUser(suite.server, stranger.email);
    expect(await consents.countDocuments({ _id: `${patientUser._id}:${strangerUser._id}` })).toBe(
      0,
    );
    expect(await consents.findOne({ _id: `${patientUser._id}:${doctorUser._id}` })).toMatchObject({
      seq: 1,
    });

    // The doctor writes for her; the stranger she shared with (but did not consent to) cannot.
    const { page: doctorPage } = await newDevice(suite.browser, captured);
    await loginAs(doctorPage, suite.server.baseUrl, doctor);
    await writeNoteFor(doctorPage, patientUser._id, { title: 'Check-up', body: 'All well' });
    await doctorPage.getByText('Verified: written and signed by you').waitFor();
    const { page: strangerPage } = await newDevice(suite.browser, captured);
    await loginAs(strangerPage, suite.server.baseUrl, stranger);
    await go(strangerPage, `/records/new?owner=${patientUser._id}`);
    await strangerPage.getByText(/has not let you write records for them/).waitFor();
    expect(await strangerPage.getByRole('button', { name: 'Encrypt and save' }).isDisabled()).toBe(
      true,
    );

    // She stops it from her Contacts page: signed, stored as a withdrawal, his form refuses.
    await go(patientPage, '/contacts');
    await patientPage.getByRole('button', { name: `Stop ${doctor.name} writing for me` }).click();
    await patientPage.getByText(`${doctor.name} may not write records for you.`).waitFor();
    await settled(patientPage);
    expect(await consents.findOne({ _id: `${patientUser._id}:${doctorUser._id}` })).toMatchObject({
      seq: 2,
      withdrawnAt: expect.any(Date),
    });
    await go(doctorPage, `/records/new?owner=${patientUser._id}`);
    await doctorPage.getByText(/has not let you write records for them/).waitFor();
    expect(await doctorPage.getByRole('button', { name: 'Encrypt and save' }).isDisabled()).toBe(
      true,
    );
    // His note from before is not labelled as written without her consent, nor called consented:
    // its signing date is his own (docs/decisions.md), so the page says just that.
    const note = await suite.server.connection
      .collection<{ _id: string }>('records')
      .findOne({ ownerId: patientUser._id, authorId: doctorUser._id });
    await go(patientPage, `/records/${note?._id}`);
    await patientPage.getByText('All well').waitFor();
    expect(await patientPage.getByText('Written without your consent').count()).toBe(0);
    await patientPage
      .getByText(`You withdrew your consent for ${doctor.name} to write for you`, { exact: false })
      .waitFor();
    // Nor does her list: his row there has its title and no such label.
    await go(patientPage, '/records');
    const row = patientPage.locator(`[data-record-id="${note?._id}"]`);
    await row.getByText('Check-up').waitFor({ timeout: 30_000 });
    expect(await row.getByText('Written without your consent').count()).toBe(0);
  });

  // Issue 10 class 11, the replay: every statement she signs carries her consent book, and a
  // doctor keeps the largest book he verified in his account state (docs/decisions.md).
  it('when the server replays to her other doctor a consent she withdrew, then his form warns and uses none of her consents', async () => {
    const vera: Account = {
      role: 'patient',
      name: 'Vera Replay',
      email: 'vera-replay@example.org',
      password: 'Orchid-Basalt-Comet-52',
    };
    const former: Account = {
      role: 'doctor',
      name: 'Dr Ann Former',
      email: 'ann-former@clinic.example',
      password: 'Pebble-Indigo-Osprey-19',
    };
    const current: Account = {
      role: 'doctor',
      name: 'Dr Bo Current',
      email: 'bo-current@clinic.example',
      password: 'Saffron-Granite-Wren-73',
    };
    const { page: patientPage } = await newDevice(suite.browser, captured);
    await register(patientPage, suite.server.baseUrl, vera);
    await registerUser(suite.server.baseUrl, former);
    await registerUser(suite.server.baseUrl, current);
    const veraUser = await storedUser(suite.server, vera.email);
    const consents = suite.server.connection.collection<{
      _id: string;
      seq: number;
      signedConsent: string;
      withdrawnAt?: Date;
    }>('consents');
    const note = await createNote(patientPage, 'Vaccinations', 'Tetanus 2025');
    expect(await shareWith(patientPage, note, former)).toBe('shared');
    expect(await shareWith(patientPage, note, current)).toBe('shared');
    const formerUser = await storedUser(suite.server, former.email);
    const formerId = `${veraUser._id}:${formerUser._id}`;
    const given = await consents.findOne({ _id: formerId });
    if (!given) throw new Error('no consent stored');

    // She stops Dr Former; Dr Current's form then verifies her statements, withdrawal included.
    await go(patientPage, '/contacts');
    await patientPage.getByRole('button', { name: `Stop ${former.name} writing for me` }).click();
    await patientPage.getByText(`${former.name} may not write records for you.`).waitFor();
    await settled(patientPage);
    const { page: doctorPage } = await newDevice(suite.browser, captured);
    await loginAs(doctorPage, suite.server.baseUrl, current);
    await go(doctorPage, `/records/new?owner=${veraUser._id}`);
    await doctorPage.getByLabel('Title').waitFor({ timeout: 30_000 });
    await settled(doctorPage);
    expect(await doctorPage.getByText(/Security warning/).count()).toBe(0);

    // The operator replays the consent she withdrew (authentic, signed by her).
    await consents.updateOne(
      { _id: formerId },
      { $set: { seq: given.seq, signedConsent: given.signedConsent }, $unset: { withdrawnAt: 1 } },
    );
    await go(doctorPage, '/records');
    await go(doctorPage, `/records/new?owner=${veraUser._id}`);
    await doctorPage
      .getByText(/the server shows older consents of this patient than you already saw/)
      .waitFor({ timeout: 30_000 });
  });

  // Issue 10 class 11 with class 12: a consent names a key, so it is never signed for a key the
  // patient was told not to trust (it would make her other doctors encrypt to that key).
  it('when the numbers she compared with a doctor did not match, then Contacts does not offer to let him write for her and signs no consent', async () => {
    const lena: Account = {
      role: 'patient',
      name: 'Lena Mismatch',
      email: 'lena-mismatch@example.org',
      password: 'Fennel-Cobalt-Ridge-47',
    };
    const omar: Account = {
      role: 'doctor',
      name: 'Dr Omar Unmatched',
      email: 'omar-unmatched@clinic.example',
      password: 'Tundra-Saffron-Kite-83',
    };
    const { page } = await newDevice(suite.browser, captured);
    await register(page, suite.server.baseUrl, lena);
    await registerUser(suite.server.baseUrl, omar);
    const note = await createNote(page, 'Thyroid', 'TSH 2.1');
    expect(await findToShare(page, note, omar)).toBe(true);
    await page
      .getByRole('checkbox', { name: `${omar.name} may also write records for you` })
      .uncheck();
    await page.getByRole('button', { name: `Share with ${omar.name}` }).click();
    await page.getByRole('button', { name: SHARE_WITHOUT_VERIFYING }).click();
    await settled(page);

    await go(page, '/contacts');
    const card = page.getByTestId('key-check').filter({ hasText: omar.name });
    await card.getByRole('button', { name: `Compare numbers with ${omar.name}` }).click();
    await page
      .getByRole('dialog', { name: `Compare numbers with ${omar.name}` })
      .getByRole('button', { name: 'They don’t match' })
      .click();
    await page.getByTestId('key-mismatch').getByRole('button', { name: 'Close' }).click();
    await card.getByText('Numbers did not match', { exact: true }).waitFor({ timeout: 30_000 });
    await page
      .getByText(`You cannot let ${omar.name} write for you with this key until the numbers match.`)
      .waitFor({ timeout: 30_000 });
    expect(
      await page.getByRole('button', { name: `Let ${omar.name} write records for me` }).count(),
    ).toBe(0);
    const lenaUser = await storedUser(suite.server, lena.email);
    expect(
      await suite.server.connection
        .collection('consents')
        .countDocuments({ _id: { $regex: `^${lenaUser._id}:` } } as never),
    ).toBe(0);
  });
});
