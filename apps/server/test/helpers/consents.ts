import { createConsent } from '@medseal/crypto';
import type { ApiResponse } from './client';
import type { TestTeam } from './teams';
import type { TestUser } from './users';

/** The body a patient's client sends to consent to `doctor` writing for her (or, `withdraw`, to stop it). */
export async function consentBody(
  patient: TestUser,
  doctor: TestUser,
  options: { seq?: number; withdraw?: boolean; fingerprint?: string; signer?: TestUser } = {},
) {
  const { signedConsent } = await createConsent({
    consent: {
      patientId: patient.id,
      subject: {
        kind: 'person',
        id: doctor.id,
        fingerprint: options.fingerprint ?? doctor.fingerprint,
      },
      seq: options.seq ?? 1,
      ...(options.withdraw ? { withdrawnAt: new Date() } : {}),
    },
    patientKey: (options.signer ?? patient).key.privateKey,
  });
  return { signedConsent };
}

/** Stores a consent statement through the API as `patient`. */
export async function putConsent(
  patient: TestUser,
  doctor: TestUser,
  options: Parameters<typeof consentBody>[2] = {},
): Promise<ApiResponse> {
  return patient.api.put(
    `/patients/${patient.id}/consents/${doctor.id}`,
    await consentBody(patient, doctor, options),
  );
}

/** `patient` lets `doctor` write for her (seq 1, or `seq`); throws unless 200. */
export async function giveConsent(patient: TestUser, doctor: TestUser, seq = 1): Promise<void> {
  const res = await putConsent(patient, doctor, { seq });
  if (res.status !== 200)
    throw new Error(`consent failed: ${res.status} ${JSON.stringify(res.body)}`);
}

/** The body a patient's client sends to consent to a care team writing for her (or to stop it). */
export async function teamConsentBody(
  patient: TestUser,
  team: TestTeam,
  options: {
    seq?: number;
    withdraw?: boolean;
    fingerprint?: string;
    genesis?: string;
    teamId?: string;
    signer?: TestUser;
  } = {},
) {
  const { signedConsent } = await createConsent({
    consent: {
      patientId: patient.id,
      subject: {
        kind: 'team',
        id: options.teamId ?? team.id,
        fingerprint: options.fingerprint ?? team.state.root.fingerprint,
        genesis: options.genesis ?? team.state.genesis,
      },
      seq: options.seq ?? 1,
      ...(options.withdraw ? { withdrawnAt: new Date() } : {}),
    },
    patientKey: (options.signer ?? patient).key.privateKey,
  });
  return { signedConsent };
}

/** Stores a consent to a team through the API as `patient`. */
export async function putTeamConsent(
  patient: TestUser,
  team: TestTeam,
  options: Parameters<typeof teamConsentBody>[2] = {},
): Promise<ApiResponse> {
  return patient.api.put(
    `/patients/${patient.id}/team-consents/${team.id}`,
    await teamConsentBody(patient, team, options),
  );
}

/** `patient` lets every current member of `team` write for her; throws unless 200. */
export async function giveTeamConsent(patient: TestUser, team: TestTeam, seq = 1): Promise<void> {
  const res = await putTeamConsent(patient, team, { seq });
  if (res.status !== 200)
    throw new Error(`team consent failed: ${res.status} ${JSON.stringify(res.body)}`);
}
