import type { RecordDto } from '@medseal/contract';
import { readersChosenBy } from './recordService';

const record = (ownerId: string, readers: string[]): RecordDto => ({
  id: `r-${ownerId}-${readers.join('-')}`,
  ownerId,
  authorId: ownerId,
  recipients: readers.map((userId) => ({ userId, fingerprint: 'f'.repeat(40) })),
  version: 1,
  createdAt: '2026-11-01T10:00:00.000Z',
  updatedAt: '2026-11-01T10:00:00.000Z',
  message: '',
  attachments: [],
});

describe('readersChosenBy', () => {
  it("when a doctor writes for a patient, then the offered readers are the other people on that patient's records, once each, without the patient, the doctor or other patients' readers", () => {
    const records = [record('pat', ['pat', 'doc', 'nurse']), record('pat', ['pat', 'doc', 'gp', 'nurse']), record('other', ['other', 'doc', 'stranger'])];
    expect(readersChosenBy('pat', 'doc', records)).toEqual(['gp', 'nurse']);
  });

  it('when the patient shared only with me, then nobody else is offered', () => {
    expect(readersChosenBy('pat', 'doc', [record('pat', ['pat', 'doc'])])).toEqual([]);
  });
});
