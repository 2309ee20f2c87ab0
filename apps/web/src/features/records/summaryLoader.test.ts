import { SummaryLoader, type SummaryJob } from './summaryLoader';

const SIGNED = {
  author: { id: 'me', fingerprint: 'f'.repeat(40) },
  signedAt: new Date('2026-01-01T00:00:00Z'),
  teams: [],
};

const job = (i: number): SummaryJob => ({ id: `r${i}`, version: 1 });
const settle = () => new Promise((r) => setTimeout(r, 0));

describe('SummaryLoader', () => {
  it('when rows on screen are given as priority, then they are decrypted before the rest', async () => {
    const order: string[] = [];
    const loader = new SummaryLoader(async (j) => {
      order.push(j.id);
      return {
        status: 'verified',
        summary: { title: j.id, kind: 'note', date: '2026-01-01' },
        role: 'owner',
        ...SIGNED,
      };
    }, 1);
    const all = Array.from({ length: 10 }, (_, i) => job(i));
    loader.request(all, [job(7), job(8)]);
    for (let i = 0; i < 20; i += 1) await settle();
    expect(order.slice(0, 2)).toEqual(['r7', 'r8']);
    expect(order).toHaveLength(10);
  });

  it('when a record was decrypted once, then asking again uses the cache', async () => {
    let calls = 0;
    const loader = new SummaryLoader(async () => {
      calls += 1;
      return {
        status: 'verified',
        summary: { title: 't', kind: 'note', date: '2026-01-01' },
        role: 'owner',
        ...SIGNED,
      };
    });
    loader.request([job(1)]);
    await settle();
    loader.request([job(1)]);
    await settle();
    expect(calls).toBe(1);
    expect(loader.get(job(1))).toMatchObject({ status: 'verified' });
  });

  it('when the same record and version is listed again with another owner or author, then it is checked again, not shown from the cache', async () => {
    const checked: SummaryJob[] = [];
    const loader = new SummaryLoader(async (j) => {
      checked.push(j);
      return j.ownerId === 'ann'
        ? {
            status: 'verified',
            summary: { title: 'Ann’s note', kind: 'note', date: '2026-01-01' },
            role: 'reader',
            ...SIGNED,
          }
        : { status: 'failed', failure: { status: 'context-mismatch', mismatches: ['ownerId'] } };
    });
    const claimed = (ownerId: string, authorId: string) => ({ ...job(1), ownerId, authorId });
    loader.request([claimed('ann', 'dana')]);
    await settle();
    loader.request([claimed('bob', 'dana'), claimed('ann', 'mallory')]);
    await settle();
    expect(checked.map((j) => `${j.ownerId}/${j.authorId}`)).toEqual([
      'ann/dana',
      'bob/dana',
      'ann/mallory',
    ]);
    expect(loader.get(claimed('bob', 'dana'))).toMatchObject({ status: 'failed' });
    expect(loader.get(claimed('ann', 'dana'))).toMatchObject({ status: 'verified' });
  });

  it('when decryption throws, then the row becomes an error state, not a title', async () => {
    const loader = new SummaryLoader(async () => {
      throw new Error('no key for this message');
    });
    loader.request([job(1)]);
    await settle();
    await settle();
    expect(loader.get(job(1))).toEqual({ status: 'error', message: 'no key for this message' });
  });
});
