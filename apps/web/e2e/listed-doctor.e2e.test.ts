import { newDevice, type CapturedRequest } from './support/browser';
import { api, registerUser } from './support/api';
import { browserSuite } from './support/suite';
import { go, loginAs, type Account } from './support/app';

// Issue 15, finding 1: a doctor opts in to being found by name from the settings page.
const suite = browserSuite();
const captured: CapturedRequest[] = [];
const doctor: Account = {
  role: 'doctor',
  name: 'Dr Linnea Listed',
  email: 'linnea-listed@example.org',
  password: 'Copper-Meadow-Falcon-29',
};
const patient = {
  role: 'patient' as const,
  name: 'Pia Seeker',
  email: 'pia-seeker@example.org',
  password: 'Amber-Harbour-Lantern-41',
};

describe('a doctor chooses to be found by name (real Chromium)', () => {
  it('when the doctor ticks "Let people find me by name" in Settings, then a stranger finds her by name, and after unticking no longer does', async () => {
    await registerUser(suite.server.baseUrl, doctor);
    const { session: seeker } = await registerUser(suite.server.baseUrl, patient);
    const byName = async () =>
      (
        await api<{ users: { name: string }[] }>(seeker, 'GET', '/users?namePrefix=Dr%20Linnea')
      ).users.map((u) => u.name);
    expect(await byName()).toEqual([]);

    const { page } = await newDevice(suite.browser, captured);
    await loginAs(page, suite.server.baseUrl, doctor);
    await go(page, '/settings');
    const box = page.getByRole('checkbox', { name: 'Let people find me by name' });
    await box.check();
    await page.getByText('People can now find you by name.').waitFor();
    expect(await byName()).toEqual([doctor.name]);

    await box.uncheck();
    await page.getByText('People can now find you only by your email address.').waitFor();
    expect(await byName()).toEqual([]);
  });
});
