import type { KeyHandle } from '../../crypto/client';
import type { Fingerprint, TeamState, UserId } from '@medseal/crypto';
import type { Person } from '../../app/keyBook';
import type { VerifiedTeam } from '../teams/teamService';
import { may, myRoleOn, type MyRecordRole, type RecordAction } from './actions';
import type { VerifiedRecord } from './opened';

const fp = (userId: string) =>
  userId
    .padEnd(40, '0')
    .slice(0, 40)
    .replace(/[^0-9a-f]/g, 'f');
const person = (id: string): Person => ({
  id,
  name: id,
  role: id === 'pat' ? 'patient' : 'doctor',
  publicKey: '',
  fingerprint: fp(id),
});
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
const team = {
  state: {
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
    members: [member('adm'), member('mem')],
    keys: [
      {
        fingerprint: fp('teamkey') as Fingerprint,
        keyHash: 'k'.repeat(43),
        gen: 1,
        fromSeq: 0,
        from: at,
      },
    ],
  } satisfies TeamState,
} as VerifiedTeam;

/** A verified version of the patient's record by `author`, sealed to `sealedTo`; `readers` adds grantees. */
function record(input: {
  author: string;
  sealedTo: string[];
  readers?: string[];
  teams?: boolean;
}): VerifiedRecord {
  const readers = input.readers ?? input.sealedTo;
  return {
    status: 'verified',
    dto: {
      id: 'r1',
      ownerId: 'pat',
      authorId: input.author,
      recipients: [],
      teams: [],
      version: 2,
      createdAt: at,
      updatedAt: at,
      message: '',
      attachments: [],
    },
    content: { v: 1, kind: 'note', title: 't', date: '2026-11-01', body: '', attachments: [] },
    author: person(input.author),
    authorVerified: false,
    signedAt: new Date(at),
    readers: readers.map((userId) => ({ userId, fingerprint: fp(userId) })),
    uncheckedReaders: [],
    signedRecipients: [...input.sealedTo.map(fp), ...(input.teams ? [fp('teamkey')] : [])],
    teams: input.teams ? [{ team, gen: 1 }] : [],
    attestation: null,
    readingKey: 'k' as KeyHandle,
    rekeyedBy: null,
  };
}
const me = (id: string, key = fp(id)) => ({ id, fingerprint: key });

describe('myRoleOn (mirrors the server’s roleOf)', () => {
  it('when the envelope names me as owner, then I am the owner, whoever wrote the version', () => {
    expect(myRoleOn(record({ author: 'doc', sealedTo: ['pat', 'doc'] }), me('pat'))).toBe('owner');
  });

  it('when I wrote the current version naming myself and read it in my own right, then I am its author', () => {
    expect(myRoleOn(record({ author: 'doc', sealedTo: ['pat', 'doc'] }), me('doc'))).toBe('author');
  });

  it('when a member of the record’s team wrote the current version through the team, then she is a member, not an author (the server lets members write, not share)', () => {
    expect(myRoleOn(record({ author: 'mem', sealedTo: ['pat'], teams: true }), me('mem'))).toBe(
      'member',
    );
  });

  it('when that member was later granted the record in her own right, then she is a reader (the server’s role in her own right wins)', () => {
    expect(
      myRoleOn(
        record({ author: 'mem', sealedTo: ['pat'], readers: ['pat', 'mem'], teams: true }),
        me('mem'),
      ),
    ).toBe('reader');
  });

  it('when I read through a team but hold another key than the one the team attests, then I am no member', () => {
    expect(
      myRoleOn(record({ author: 'pat', sealedTo: ['pat'], teams: true }), me('mem', fp('abc'))),
    ).toBe('reader');
  });

  it('when someone else wrote it and shared it with me, then I am a reader', () => {
    expect(
      myRoleOn(record({ author: 'pat', sealedTo: ['pat'], readers: ['pat', 'doc'] }), me('doc')),
    ).toBe('reader');
  });
});

describe('may (mirrors the server’s ROLE_MAY and consent check)', () => {
  const table: [MyRecordRole, boolean, Record<RecordAction, boolean>][] = [
    ['owner', false, { edit: true, share: true, delete: true }],
    ['author', true, { edit: true, share: true, delete: false }],
    ['author', false, { edit: false, share: false, delete: false }],
    ['member', true, { edit: true, share: false, delete: false }],
    ['member', false, { edit: false, share: false, delete: false }],
    ['reader', true, { edit: false, share: false, delete: false }],
  ];
  it.each(table)(
    'when I am %s and the owner’s consent verified is %s, then the actions offered are %o',
    (role, consent, expected) => {
      expect({
        edit: may(role, 'edit', consent),
        share: may(role, 'share', consent),
        delete: may(role, 'delete', consent),
      }).toEqual(expected);
    },
  );
});
