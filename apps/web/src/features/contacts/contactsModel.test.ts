import { canShare, EMPTY_CONTACTS, markVerified, parseContactsDoc, pin, pinStateOf } from './contactsModel';

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
    const doc = markVerified(markVerified(pin(EMPTY_CONTACTS, doctor, FP1, now), doctor, FP1, now), doctor, FP2, now);
    const state = pinStateOf(doc, doctor.id, FP2);
    expect(state.status).toBe('verified');
    expect(doc.contacts[doctor.id]?.previous).toEqual([FP1]);
  });

  it('when a stored list has an unknown version, then reading it fails instead of guessing', () => {
    expect(() => parseContactsDoc({ v: 2, contacts: {} })).toThrow(/version 2/);
  });
});
