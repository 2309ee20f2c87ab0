import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { RecoveryKit, recoveryKitText, WORDS_TO_CONFIRM } from './RecoveryKit';

const WORDS = [
  'abandon',
  'ability',
  'able',
  'about',
  'above',
  'absent',
  'absorb',
  'abstract',
  'absurd',
  'abuse',
  'access',
  'accident',
];

function askedPositions(): number[] {
  return screen.getAllByLabelText(/^Word \d+$/).map((el) => {
    const label = document.querySelector(`label[for="${el.id}"]`)?.textContent ?? '';
    return Number(label.replace('Word ', '')) - 1;
  });
}

describe('RecoveryKit', () => {
  it('when the asked words are typed back and the warning is acknowledged, then the account is confirmed', async () => {
    const user = userEvent.setup();
    let confirmed = 0;
    render(
      <RecoveryKit email="a@example.org" words={WORDS} onConfirmed={() => (confirmed += 1)} />,
    );
    expect(screen.getByRole('list', { name: 'Recovery words' }).children).toHaveLength(12);
    const positions = askedPositions();
    expect(positions).toHaveLength(WORDS_TO_CONFIRM);
    for (const p of positions)
      await user.type(screen.getByLabelText(`Word ${p + 1}`), WORDS[p] ?? '');
    await user.click(screen.getByRole('checkbox'));
    await user.click(screen.getByRole('button', { name: 'I have saved my recovery words' }));
    expect(confirmed).toBe(1);
  });

  it('when a word is wrong, then it says which one and does not continue', async () => {
    const user = userEvent.setup();
    let confirmed = 0;
    render(
      <RecoveryKit email="a@example.org" words={WORDS} onConfirmed={() => (confirmed += 1)} />,
    );
    const [first, ...rest] = askedPositions();
    await user.type(screen.getByLabelText(`Word ${(first ?? 0) + 1}`), 'wrong');
    for (const p of rest) await user.type(screen.getByLabelText(`Word ${p + 1}`), WORDS[p] ?? '');
    await user.click(screen.getByRole('checkbox'));
    await user.click(screen.getByRole('button', { name: 'I have saved my recovery words' }));
    expect(confirmed).toBe(0);
    expect(
      screen.getByText(new RegExp(`Word ${(first ?? 0) + 1} does not match`)),
    ).toBeInTheDocument();
  });

  it('when the kit is saved as text, then it lists every word in order and says what loss means', () => {
    const text = recoveryKitText('a@example.org', WORDS);
    expect(text).toContain(' 1. abandon');
    expect(text).toContain('12. accident');
    expect(text).toMatch(/nobody/);
  });
});
