import { newDevice, type CapturedRequest } from './support/browser';
import { registerUser } from './support/api';
import { browserSuite } from './support/suite';
import { go, loginAs, type Account } from './support/app';
import { leaksOf, privateKeysIn } from './support/leaks';

// Issue 13: care teams in the browser. A doctor creates a practice and a team, adds a colleague
// by email (her attested role is listed, signed by the admin), the colleague sees the team;
// the admin removes her and the page says she may have kept what she read.
const suite = browserSuite();
const captured: CapturedRequest[] = [];
const admin: Account = { role: 'doctor', name: 'Dr Ada Admin', email: 'ada-admin@example.org', password: 'Copper-Meadow-Falcon-29' };
const colleague: Account = { role: 'doctor', name: 'Dr Cora Colleague', email: 'cora-colleague@example.org', password: 'Amber-Harbour-Lantern-41' };

describe('care teams (real Chromium)', () => {
  it('when an admin creates a team and adds a colleague by email, then both see it with her attested role; when removed, she no longer does', async () => {
    await registerUser(suite.server.baseUrl, admin);
    await registerUser(suite.server.baseUrl, colleague);

    const { page } = await newDevice(suite.browser, captured);
    await loginAs(page, suite.server.baseUrl, admin);
    await go(page, '/teams');
    await page.getByLabel('Practice name').fill('St Mary’s');
    await page.getByRole('button', { name: 'Create practice' }).click();
    await page.getByRole('heading', { name: 'St Mary’s' }).waitFor();
    await page.getByLabel('New team name').fill('Cardiology');
    await page.getByRole('button', { name: 'Create team' }).click();
    await page.getByRole('list', { name: 'Your teams' }).getByRole('link', { name: 'Cardiology' }).click();
    await page.getByRole('heading', { name: 'Cardiology (St Mary’s)' }).waitFor();

    await page.getByLabel('Their email').fill(colleague.email);
    await page.getByRole('button', { name: 'Add to the team' }).click();
    const row = page.locator('tr', { hasText: colleague.name });
    await row.waitFor();
    expect(await row.textContent()).toContain('Doctor');
    expect(await row.textContent()).toContain(admin.name);

    const { page: cora } = await newDevice(suite.browser, captured);
    await loginAs(cora, suite.server.baseUrl, colleague);
    await go(cora, '/teams');
    await cora.getByRole('list', { name: 'Your teams' }).getByRole('link', { name: 'Cardiology' }).waitFor();

    await page.getByRole('button', { name: `Remove ${colleague.name}` }).click();
    await page.getByText('They may have kept what they already read.').waitFor();
    await page.getByRole('button', { name: `Remove ${colleague.name}` }).last().click();
    await row.waitFor({ state: 'detached' });

    await go(cora, '/settings');
    await go(cora, '/teams');
    await cora.getByText('You are not in any team yet.').waitFor();
    // No password and no unprotected private key (the team key travels only inside envelopes).
    expect(leaksOf(captured, [admin.password, colleague.password])).toEqual([]);
    expect(privateKeysIn(captured).filter((k) => k.secretPackets > 0)).toEqual([]);
  });
});
