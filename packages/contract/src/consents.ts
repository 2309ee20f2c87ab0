import { z } from 'zod';
import { armoredSchema, fingerprintSchema, idSchema, isoDate } from './common';
import { endpoint } from './endpoint';

/** Longest armored consent statement (`MAX_CONSENT_CHARS` in crypto; one is ~0.8 KiB). */
export const MAX_CONSENT_CHARS = 8 * 1024;

/**
 * Consent to write (DESIGN §13): the latest statement a patient signed about one subject (a
 * doctor, or a care team with its `genesis`), stored under `_id` `<patientId>:<subjectId>`
 * (`<patientId>:team:<teamId>` for a team). The other fields are
 * what the server read from it; clients act only on `signedConsent` after verifying it with the
 * patient's key (`verifyConsent`).
 */
export const consentSchema = z.object({
  patientId: idSchema,
  subjectKind: z.enum(['person', 'team']),
  subjectId: idSchema,
  /** A person's key, or a team's root admin key. */
  fingerprint: fingerprintSchema,
  /** A team only: the hash of its creation statement the consent names. */
  genesis: z.string().min(1).max(200).optional(),
  seq: z.number().int().min(1),
  since: isoDate,
  withdrawnAt: isoDate.optional(),
  signedConsent: z.string(),
});
export type ConsentDto = z.infer<typeof consentSchema>;

export const consentListResponseSchema = z.object({ consents: z.array(consentSchema) });
export type ConsentListResponse = z.infer<typeof consentListResponseSchema>;

export const putConsentRequestSchema = z
  .object({ signedConsent: armoredSchema(MAX_CONSENT_CHARS) })
  .strict();
export type PutConsentRequest = z.infer<typeof putConsentRequestSchema>;

export const patientParamsSchema = z.object({ patientId: idSchema }).strict();
export const consentParamsSchema = z.object({ patientId: idSchema, subjectId: idSchema }).strict();
export const teamConsentParamsSchema = z.object({ patientId: idSchema, teamId: idSchema }).strict();

/** 403 on a write for a patient by someone she has not (or no longer) consented to. */
export const NO_CONSENT_CODE = 'no-consent';

export const consentEndpoints = {
  putConsent: endpoint({
    method: 'put',
    path: '/patients/:patientId/consents/:subjectId',
    summary:
      'The patient stores a consent to write she signed for a doctor, or its withdrawal (a higher `seq`); only the patient herself, checked with her registered key, for the doctor’s registered fingerprint.',
    tag: 'consents',
    auth: 'session',
    params: consentParamsSchema,
    body: putConsentRequestSchema,
    response: consentSchema,
    status: 200,
    errors: [
      'forbidden',
      'user-not-found',
      'subject-not-doctor',
      'bad-signature',
      'consent-wrong-patient',
      'consent-wrong-subject',
      'fingerprint-mismatch',
      'consent-replayed',
    ],
  }),
  putTeamConsent: endpoint({
    method: 'put',
    path: '/patients/:patientId/team-consents/:teamId',
    summary:
      'The patient stores a consent to write she signed for a care team (any current member may then write for her), or its withdrawal; checked with her registered key for the team’s id, genesis and root admin key.',
    tag: 'consents',
    auth: 'session',
    params: teamConsentParamsSchema,
    body: putConsentRequestSchema,
    response: consentSchema,
    status: 200,
    errors: [
      'forbidden',
      'team-not-found',
      'bad-signature',
      'consent-wrong-patient',
      'consent-wrong-subject',
      'fingerprint-mismatch',
      'consent-replayed',
      'version-conflict',
    ],
  }),
  listConsents: endpoint({
    method: 'get',
    path: '/patients/:patientId/consents',
    summary:
      'A patient’s latest consent statements, withdrawals included (each carries her consent book): for the patient and for a doctor she currently consents to, in person or through his team; 404 for anyone else.',
    tag: 'consents',
    auth: 'session',
    params: patientParamsSchema,
    response: consentListResponseSchema,
    status: 200,
    errors: ['consent-not-found'],
  }),
  getConsent: endpoint({
    method: 'get',
    path: '/patients/:patientId/consents/:subjectId',
    summary:
      'One consent statement: for the patient, its subject, and her other current carers; 404 for anyone else.',
    tag: 'consents',
    auth: 'session',
    params: consentParamsSchema,
    response: consentSchema,
    status: 200,
    errors: ['consent-not-found'],
  }),
} as const;
