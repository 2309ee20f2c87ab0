// Consent to write (DESIGN §13, issue 10 class 11) in real Chromium: the patient lets a doctor
// write for her when she first shares with him (ticked by default, in plain words), stops it
// on her Contacts page, and the doctor's app and the server both follow what she signed.
import { newDevice, type CapturedRequest } from './support/browser';
import { registerUser } from './support/api';
import { browserSuite } from './support/suite';
import { createNote, go, loginAs, register, type Account } from './support/app';
import { storedUser } from './support/malicious-server';
import { findToShare, settled, SHARE_WITHOUT_VERIFYING, shareWith, writeNoteFor } from './support/victim';

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
    // His note from before stays his, not labelled as written without her consent.
    const note = await suite.server.connection
      .collection<{ _id: string }>('records')
      .findOne({ ownerId: patientUser._id, authorId: doctorUser._id });
    await go(patientPage, `/records/${note?._id}`);
    await patientPage.getByText('All well').waitFor();
    expect(await patientPage.getByText('Written without your consent').count()).toBe(0);
  });
});
