import type { KeyHandle } from '../../crypto/client';
import type { RecordDto } from '@medseal/contract';
import type { Person } from '../../app/keyBook';
import { readersChosenBy, type OpenedRecord } from './recordService';

const fp = (userId: string) => userId.padEnd(40, '0').slice(0, 40).replace(/[^0-9a-f]/g, 'f');

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

const author: Person = { id: 'pat', name: 'Pat', role: 'patient', publicKey: '', fingerprint: fp('pat') };

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
    readingKey: 'my-key' as KeyHandle,
    readers: d.recipients,
  };
};

const tampered = (ownerId: string, readers: string[]): OpenedRecord => ({ status: 'bad-signature', reason: 'invalid-signature', dto: dto(ownerId, readers) });

describe('readersChosenBy', () => {
  it("when a doctor writes for a patient, then the offered readers are the other people on that patient's verified records, once each, without the patient, the doctor or other patients' readers", () => {
    const opened = [verified('pat', ['pat', 'doc', 'nurse']), verified('pat', ['pat', 'doc', 'gp', 'nurse']), verified('other', ['other', 'doc', 'stranger'])];
    const { patient, chosen } = readersChosenBy('pat', 'doc', opened);
    expect(chosen.map((r) => r.userId)).toEqual(['gp', 'nurse']);
    expect(patient).toEqual({ userId: 'pat', fingerprint: fp('pat') });
  });

  it('when the patient shared only with me, then nobody else is offered', () => {
    expect(readersChosenBy('pat', 'doc', [verified('pat', ['pat', 'doc'])]).chosen).toEqual([]);
  });

  it('when a record of the patient was signed by someone else (a doctor, with or without her consent), then its readers are not offered; the doctors her verified consents name are', () => {
    const intruder: Person = { id: 'intruder', name: 'Dr Intruder', role: 'doctor', publicKey: '', fingerprint: fp('intruder') };
    const opened = [verified('pat', ['pat', 'doc']), verified('pat', ['pat', 'doc', 'intruder', 'friend'], intruder)];
    const { patient, chosen } = readersChosenBy('pat', 'doc', opened, [{ userId: 'gp', fingerprint: fp('gp') }, { userId: 'doc', fingerprint: fp('doc') }]);
    expect(chosen).toEqual([{ userId: 'gp', fingerprint: fp('gp') }]);
    expect(patient).toEqual({ userId: 'pat', fingerprint: fp('pat') });
  });

  it('when a record of the patient did not verify (a reader added by the server), then its readers are never offered, nor its key for the patient', () => {
    const { patient, chosen } = readersChosenBy('pat', 'doc', [tampered('pat', ['pat', 'doc', 'mallory'])]);
    expect(chosen).toEqual([]);
    expect(patient).toBeNull();
  });
});
