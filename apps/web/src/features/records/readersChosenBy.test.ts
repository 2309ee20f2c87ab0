import type { KeyHandle } from '../../crypto/client';
import type { RecordDto } from '@medseal/contract';
import type { Fingerprint, TeamState, UserId } from '@medseal/crypto';
import type { Person } from '../../app/keyBook';
import type { VerifiedTeam } from '../teams/teamService';
import type { OpenedRecord, VerifiedRecord } from './opened';
import { readersChosenBy, readersOfNextVersion } from './recordService';

const fp = (userId: string) =>
  userId
    .padEnd(40, '0')
    .slice(0, 40)
    .replace(/[^0-9a-f]/g, 'f');

const dto = (ownerId: string, readers: string[]): RecordDto => ({
  id: `r-${ownerId}-${readers.join('-')}`,
  ownerId,
  authorId: ownerId,
  recipients: readers.map((userId) => ({ userId, fingerprint: fp(userId) })),
  teams: [],
  version: 1,
  createdAt: '2026-11-01T10:00:00.000Z',
  updatedAt: '2026-11-01T10:00:00.000Z',
  message: '',
  attachments: [],
});

const author: Person = {
  id: 'pat',
  name: 'Pat',
  role: 'patient',
  publicKey: '',
  fingerprint: fp('pat'),
};

const verified = (ownerId: string, readers: string[], signer: Person = author): OpenedRecord => {
  const d = dto(ownerId, readers);
  return {
    status: 'verified',
    dto: d,
    content: { v: 1, kind: 'note', title: 't', date: '2026-11-01', body: '', attachments: [] },
    author: signer,
    authorVerified: false,
    signedAt: new Date(),
    teams: [],
    attestation: null,
    rekeyedBy: null,
    readingKey: 'my-key' as KeyHandle,
    readers: d.recipients,
    uncheckedReaders: [],
    signedRecipients: d.recipients.map((r) => r.fingerprint),
  };
};

const tampered = (ownerId: string, readers: string[]): OpenedRecord => ({
  status: 'bad-signature',
  reason: 'invalid-signature',
  dto: dto(ownerId, readers),
});

describe('readersChosenBy', () => {
  it("when a doctor writes for a patient, then the offered readers are the other people on that patient's verified records, once each, without the patient, the doctor or other patients' readers", () => {
    const opened = [
      verified('pat', ['pat', 'doc', 'nurse']),
      verified('pat', ['pat', 'doc', 'gp', 'nurse']),
      verified('other', ['other', 'doc', 'stranger']),
    ];
    const { patient, chosen } = readersChosenBy('pat', 'doc', opened);
    expect(chosen.map((r) => r.userId)).toEqual(['gp', 'nurse']);
    expect(patient).toEqual({ userId: 'pat', fingerprint: fp('pat') });
  });

  it('when the patient shared only with me, then nobody else is offered', () => {
    expect(readersChosenBy('pat', 'doc', [verified('pat', ['pat', 'doc'])]).chosen).toEqual([]);
  });

  it('when a record of the patient was signed by someone else (a doctor, with or without her consent), then its readers are not offered; the doctors her verified consents name are', () => {
    const intruder: Person = {
      id: 'intruder',
      name: 'Dr Intruder',
      role: 'doctor',
      publicKey: '',
      fingerprint: fp('intruder'),
    };
    const opened = [
      verified('pat', ['pat', 'doc']),
      verified('pat', ['pat', 'doc', 'intruder', 'friend'], intruder),
    ];
    const { patient, chosen } = readersChosenBy('pat', 'doc', opened, [
      { userId: 'gp', fingerprint: fp('gp') },
      { userId: 'doc', fingerprint: fp('doc') },
    ]);
    expect(chosen).toEqual([{ userId: 'gp', fingerprint: fp('gp') }]);
    expect(patient).toEqual({ userId: 'pat', fingerprint: fp('pat') });
  });

  it('when a record of the patient did not verify (a reader added by the server), then its readers are never offered, nor its key for the patient', () => {
    const { patient, chosen } = readersChosenBy('pat', 'doc', [
      tampered('pat', ['pat', 'doc', 'mallory']),
    ]);
    expect(chosen).toEqual([]);
    expect(patient).toBeNull();
  });
});

describe('readersOfNextVersion', () => {
  const at = '2026-11-01T10:00:00.000Z';
  const member = (userId: string) => ({
    userId: userId as UserId,
    fingerprint: fp(userId) as Fingerprint,
    role: 'doctor' as const,
    admin: false,
    since: at,
    signedBy: 'adm' as UserId,
    seq: 1,
  });
  const state: TeamState = {
    v: 1,
    teamId: 'cardio',
    practiceId: 'stm',
    practiceName: 'St Mary’s',
    name: 'Cardiology',
    genesis: 'g'.repeat(43),
    root: { userId: 'adm' as UserId, fingerprint: fp('adm') as Fingerprint },
    seq: 1,
    head: 'h'.repeat(43),
    at,
    members: [member('adm'), member('doc')],
    keys: [
      {
        fingerprint: fp('teamkey') as Fingerprint,
        keyHash: 'k'.repeat(43),
        gen: 1,
        fromSeq: 0,
        from: at,
      },
    ],
  };
  const team = { state } as VerifiedTeam;
  const sharedWithTeam = (readers: string[]) =>
    ({ ...verified('pat', readers), teams: [{ team, gen: 1 }] }) as VerifiedRecord;
  const me = (id: string) =>
    ({ me: { id } as Person & { id: string }, key: { fingerprint: fp(id) } }) as Parameters<
      typeof readersOfNextVersion
    >[0];
  const ids = (readers: { userId: string }[]) => readers.map((r) => r.userId);

  it('when a member who reads the record only through her team edits it, then the new version goes to its readers as they are, not to her in her own right', () => {
    expect(ids(readersOfNextVersion(me('doc'), sharedWithTeam(['pat'])))).toEqual(['pat']);
  });

  it('when the owner, or a doctor who is a reader in her own right, edits it, then she stays among its readers', () => {
    expect(ids(readersOfNextVersion(me('pat'), sharedWithTeam(['pat'])))).toEqual(['pat']);
    expect(ids(readersOfNextVersion(me('doc'), sharedWithTeam(['pat', 'doc'])))).toEqual([
      'pat',
      'doc',
    ]);
  });

  it('when the writer is no member of the team (or holds another key than the one it attests), then she is added as its writer', () => {
    expect(ids(readersOfNextVersion(me('gp'), sharedWithTeam(['pat'])))).toEqual(['pat', 'gp']);
    const otherKey = { ...me('doc'), key: { fingerprint: fp('new') } } as Parameters<
      typeof readersOfNextVersion
    >[0];
    expect(ids(readersOfNextVersion(otherKey, sharedWithTeam(['pat'])))).toEqual(['pat', 'doc']);
  });
});
