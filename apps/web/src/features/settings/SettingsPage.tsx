import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { endpoints } from '@medseal/contract';
import { describeError } from '../../api/errors';
import { PageHead } from '../../app/PageHead';
import { useWorkspace } from '../../app/workspace';
import { Banner, Button, Card, Progress, TextField } from '../../ui';
import { changePassword } from '../auth/flows';
import { checkPasswordStrength, usePasswordStrength } from '../auth/passwordStrength';
import { MIN_ACCEPTED_SCORE } from '../auth/strength';
import { StrengthMeter } from '../auth/StrengthMeter';
import { FingerprintView } from '../sharing/Fingerprint';
import { buildExportZip } from './exportZip';
import { collectExport } from './collectExport';
import { SessionsPanel } from './SessionsPanel';

export function SettingsPage() {
  const { deps } = useWorkspace();
  return (
    <>
      <PageHead title="Settings" />
      <Card labelledBy="key-title">
        <h2 id="key-title">Your key</h2>
        <p>
          Your records are locked with a key made on this device. To be sure a record comes from
          you, or that what they share reaches only you, people compare numbers with you in person
          or on a call: they choose “Compare numbers” next to your name.
        </p>
        <details>
          <summary>Details</summary>
          <p>Your key’s fingerprint, which the numbers are made from:</p>
          <FingerprintView fingerprint={deps.key.fingerprint} label="Your key fingerprint" />
        </details>
      </Card>
      {deps.me.role === 'doctor' ? <FindableByName /> : null}
      <ChangePassword />
      <Card labelledBy="sessions-title">
        <h2 id="sessions-title">Sessions</h2>
        <SessionsPanel />
      </Card>
      <ExportData />
      <Card labelledBy="recovery-title">
        <h2 id="recovery-title">Recovery</h2>
        <p>
          If you forget your password, use “Forgot your password?” on the login page with your 12
          recovery words. Without your password and without the words, nobody can open your records.
        </p>
      </Card>
    </>
  );
}

/** Doctors choose whether anyone may find them by name (patients are found only by exact email). */
function FindableByName() {
  const { deps } = useWorkspace();
  const [listed, setListed] = useState(deps.me.listed ?? false);
  const save = useMutation({
    mutationFn: (next: boolean) => deps.call(endpoints.updateMe, { body: { listed: next } }),
    onMutate: (next) => setListed(next),
    onSuccess: (me) => setListed(me.listed ?? false),
    onError: (_error, next) => setListed(!next),
  });
  return (
    <Card labelledBy="listed-title">
      <h2 id="listed-title">Finding you by name</h2>
      <p>
        Patients can always find you by your exact email address. If you also allow it, anyone with
        an account can find you by your name.
      </p>
      <label>
        <input
          type="checkbox"
          checked={listed}
          disabled={save.isPending}
          onChange={(e) => save.mutate(e.target.checked)}
        />{' '}
        Let people find me by name
      </label>
      {save.isError ? <Banner tone="bad">{describeError(save.error)}</Banner> : null}
      {save.isSuccess ? (
        <Banner tone="ok">
          {listed
            ? 'People can now find you by name.'
            : 'People can now find you only by your email address.'}
        </Banner>
      ) : null}
    </Card>
  );
}

function ChangePassword() {
  const { deps } = useWorkspace();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [formError, setFormError] = useState<string | null>(null);
  const strength = usePasswordStrength(next, { email: deps.me.email, name: deps.me.name });
  const change = useMutation({
    mutationFn: () => changePassword({ ...deps, user: deps.me }, { current, next }),
  });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const checked =
      strength ?? (await checkPasswordStrength(next, { email: deps.me.email, name: deps.me.name }));
    if (checked.score < MIN_ACCEPTED_SCORE)
      return setFormError('Please choose a stronger new password.');
    if (next !== repeat) return setFormError('The new passwords are different.');
    setFormError(null);
    change.mutate();
  };
  return (
    <Card labelledBy="password-title">
      <h2 id="password-title">Change password</h2>
      <p>
        Your key is re-protected with the new password; your records stay as they are. Your other
        sessions are ended.
      </p>
      <form onSubmit={(e) => void submit(e)} aria-label="Change password" noValidate>
        <TextField
          label="Current password"
          type="password"
          autoComplete="current-password"
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
        />
        <TextField
          label="New password"
          type="password"
          autoComplete="new-password"
          value={next}
          onChange={(e) => setNext(e.target.value)}
        />
        {next && strength ? <StrengthMeter strength={strength} /> : null}
        <TextField
          label="Repeat new password"
          type="password"
          autoComplete="new-password"
          value={repeat}
          onChange={(e) => setRepeat(e.target.value)}
        />
        {formError ? <Banner tone="bad">{formError}</Banner> : null}
        {change.isError ? <Banner tone="bad">{describeError(change.error)}</Banner> : null}
        {change.isSuccess ? <Banner tone="ok">Password changed.</Banner> : null}
        {change.isPending ? <Progress label="Checking your passwords" value={null} /> : null}
        <Button type="submit" disabled={change.isPending}>
          Change password
        </Button>
      </form>
    </Card>
  );
}

function ExportData() {
  const { deps } = useWorkspace();
  const [passphrase, setPassphrase] = useState('');
  const [status, setStatus] = useState<string | null>(null);
  const run = useMutation({
    mutationFn: async () => {
      setStatus('Protecting your private key with the export passphrase');
      const privateKey = await deps.crypto.exportPrivateKey({
        keyHandle: deps.key.handle,
        passphrase,
      });
      const { records, omitted } = await collectExport(deps, setStatus);
      const zip = buildExportZip({
        user: { name: deps.me.name, email: deps.me.email, fingerprint: deps.key.fingerprint },
        publicKey: deps.key.publicKey,
        privateKey,
        records,
        omitted,
        exportedAt: new Date(),
      });
      const url = URL.createObjectURL(new Blob([zip as BlobPart], { type: 'application/zip' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `medseal-export-${new Date().toISOString().slice(0, 10)}.zip`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 30_000);
      setStatus(null);
      return { records: records.length, omitted: omitted.length };
    },
  });
  return (
    <Card labelledBy="export-title">
      <h2 id="export-title">Export all my data</h2>
      <p>
        A zip with every version of every record and every file, your key, and a readable copy you
        can open in any browser. Other tools can open and check it without Medseal. Your key in it
        is locked with the passphrase you type here; the readable copy is not encrypted, so keep the
        zip safe.
      </p>
      <details>
        <summary>Details</summary>
        <p>
          Records and files are standard OpenPGP files, with the public keys of everyone who signed
          them; the readable copy is readable/records.html; the README says how to open and check
          them with GnuPG, Sequoia or RNP.
        </p>
      </details>
      <form
        aria-label="Export"
        onSubmit={(e) => {
          e.preventDefault();
          run.mutate();
        }}
      >
        <TextField
          label="Export passphrase"
          type="password"
          autoComplete="new-password"
          hint="At least 8 characters. You need it to open your records with other tools."
          value={passphrase}
          onChange={(e) => setPassphrase(e.target.value)}
        />
        {run.isPending ? <Progress label={status ?? 'Exporting'} value={null} /> : null}
        {run.isError ? <Banner tone="bad">{describeError(run.error)}</Banner> : null}
        {run.isSuccess ? <Banner tone="ok">Exported {run.data.records} records.</Banner> : null}
        {run.data?.omitted ? (
          <Banner tone="bad">
            {run.data.omitted} records, versions or files are not in the export (they did not pass
            the checks, or the server left them out); the README in the zip names them.
          </Banner>
        ) : null}
        <Button type="submit" disabled={run.isPending || passphrase.length < 8}>
          Download export
        </Button>
      </form>
    </Card>
  );
}
