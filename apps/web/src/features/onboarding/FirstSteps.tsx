import { Link } from 'react-router';
import type { Me } from '@medseal/contract';
import { Card, uiStyles } from '../../ui';
import styles from './onboarding.module.css';

/**
 * What to do next, for someone who has nothing here yet (issue 14): a patient writes a first
 * record and shares it with a doctor; a doctor tells patients how to find them.
 */
export function FirstSteps({ me }: { me: Me }) {
  return me.role === 'doctor' ? <DoctorFirstSteps me={me} /> : <PatientFirstSteps />;
}

function PatientFirstSteps() {
  return (
    <Card labelledBy="first-steps-title">
      <h2 id="first-steps-title">Welcome to Medseal</h2>
      <p>
        Your health records live here. Each one is locked on this device before it is stored, so
        only you and the people you choose can read it.
      </p>
      <ol className={styles.steps}>
        <li>
          <strong>Write your first record</strong> — a note, a lab result, a prescription or a
          letter. You can add PDFs and photos.
          <div>
            <Link className={uiStyles.button} to="/records/new">
              Write your first record
            </Link>
          </div>
        </li>
        <li>
          <strong>Share it with your doctor</strong> — open the record, choose “Share…” and type
          your doctor’s email address. You can stop sharing at any time.
        </li>
        <li>
          <strong>See who opened what</strong> in the <Link to="/access-log">Access log</Link>.
        </li>
      </ol>
    </Card>
  );
}

function DoctorFirstSteps({ me }: { me: Me }) {
  return (
    <Card labelledBy="first-steps-title">
      <h2 id="first-steps-title">Welcome to Medseal</h2>
      <p>
        Your patients share their records with you here. You read them, and you can write records
        for them.
      </p>
      <ol className={styles.steps}>
        <li>
          <strong>Tell your patients your email address</strong>:{' '}
          <span className={styles.email}>{me.email}</span>. They share a record with you from its
          page (“Share…”).
        </li>
        <li>
          <strong>Or let them find you by name</strong>: turn it on in{' '}
          <Link to="/settings">Settings</Link>.
        </li>
        <li>
          <strong>When a patient shares a record</strong>, they appear under{' '}
          <Link to="/patients">Patients</Link> and the record appears under{' '}
          <Link to="/records">Records</Link>, marked New. Open a patient to read their records or
          write one for them.
        </li>
      </ol>
    </Card>
  );
}

/** For a patient whose records nobody else reads yet: how to share one. */
export function ShareTip() {
  return (
    <p className={styles.tip} role="note">
      None of your records is shared yet. To let your doctor read one, open it and choose “Share…”.
    </p>
  );
}
