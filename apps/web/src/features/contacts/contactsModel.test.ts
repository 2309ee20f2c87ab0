import {
  canShare,
  contactSchema,
  EMPTY_CONTACTS,
  markMismatch,
  markVerified,
  parseContactsDoc,
  pin,
  pinsOf,
  pinStateOf,
  whyBlocked,
} from './contactsModel';

const doctor = { id: 'doc1', name: 'Dr Who', role: 'doctor' as const };
const FP1 = 'a'.repeat(40);
const FP2 = 'b'.repeat(40);
const now = new Date('2026-11-27T10:00:00Z');

describe('contacts (trust on first use)', () => {
  it('when a person is shared with the first time, then the key is pinned unverified and sharing is allowed', () => {
    const doc = pin(EMPTY_CONTACTS, doctor, FP1, now);
    const state = pinStateOf(doc, doctor.id, FP1);
    expect(state.status).toBe('pinned');
    expect(canShare(state)).toBe(true);
  });

  it('when the directory later returns another key, then the state is changed and sharing is blocked', () => {
    const doc = markVerified(pin(EMPTY_CONTACTS, doctor, FP1, now), doctor, FP1, now);
    const state = pinStateOf(doc, doctor.id, FP2);
    expect(state).toMatchObject({ status: 'changed', newFingerprint: FP2 });
    expect(canShare(state)).toBe(false);
    expect(() => pin(doc, doctor, FP2, now)).toThrow(/changed/);
  });

  it('when the user re-verifies the new key, then sharing is allowed again and the old key is remembered', () => {
    const doc = markVerified(
      markVerified(pin(EMPTY_CONTACTS, doctor, FP1, now), doctor, FP1, now),
      doctor,
      FP2,
      now,
    );
    const state = pinStateOf(doc, doctor.id, FP2);
    expect(state.status).toBe('verified');
    expect(doc.contacts[doctor.id]?.previous).toEqual([FP1]);
  });

  it('when the user marks a pinned key verified while the directory names the person otherwise, then the pin keeps the name and role it had', () => {
    const renamed = { ...doctor, name: 'Someone Else', role: 'patient' as const };
    const doc = markVerified(pin(EMPTY_CONTACTS, doctor, FP1, now), renamed, FP1, now);
    expect(doc.contacts[doctor.id]).toMatchObject({
      name: doctor.name,
      role: doctor.role,
      verified: true,
    });
  });

  it('when the user says the numbers do not match, then sharing with that key is blocked (a new person, a pinned one, a changed key) until a comparison matches', () => {
    const fresh = markMismatch(EMPTY_CONTACTS, doctor, FP1, now);
    expect(pinStateOf(fresh, doctor.id, FP1).status).toBe('mismatch');
    expect(canShare(pinStateOf(fresh, doctor.id, FP1))).toBe(false);
    expect(whyBlocked(pinStateOf(fresh, doctor.id, FP1), 'Dr Who')).toMatch(/did not match/);

    const pinned = markMismatch(pin(EMPTY_CONTACTS, doctor, FP1, now), doctor, FP1, now);
    expect(pinStateOf(pinned, doctor.id, FP1).status).toBe('mismatch');
    // Another key (they set up again) is a change to compare, not the remembered mismatch.
    expect(pinStateOf(pinned, doctor.id, FP2).status).toBe('changed');

    const changed = markMismatch(pin(EMPTY_CONTACTS, doctor, FP1, now), doctor, FP2, now);
    expect(changed.contacts[doctor.id]?.fingerprint).toBe(FP1);
    expect(pinStateOf(changed, doctor.id, FP2).status).toBe('mismatch');

    const matched = markVerified(changed, doctor, FP2, now);
    expect(pinStateOf(matched, doctor.id, FP2).status).toBe('verified');
    expect(matched.contacts[doctor.id]?.mismatch).toBeUndefined();
    // Stored and read back as the account state holds it.
    expect(contactSchema.parse(pinsOf(changed)[0]).mismatch).toEqual({
      fingerprint: FP2,
      at: now.toISOString(),
    });
  });

  it('when a stored list has an unknown version, then reading it fails instead of guessing', () => {
    expect(() => parseContactsDoc({ v: 2, contacts: {} })).toThrow(/version 2/);
  });
});
