import { MongoClient } from 'mongodb';
import { startDevDb } from '../src/index';

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the embedded FerretDB under supervision', () => {
  it('when its process is killed (kill -9), then it runs again on the same address within 2 s, with the data committed before', async () => {
    const lines: string[] = [];
    const db = await startDevDb({ log: (line) => lines.push(line) });
    const client = new MongoClient(db.uri, { serverSelectionTimeoutMS: 5_000 });
    try {
      if (db.engine !== 'ferretdb' || !db.pid) return; // only FerretDB is run under supervision
      const docs = client.db('supervise').collection<{ _id: string }>('docs');
      await docs.insertOne({ _id: 'before' });
      const killed = db.pid();
      if (killed === undefined) throw new Error('no pid');
      process.kill(killed, 'SIGKILL');
      const started = Date.now();
      let back = false;
      while (!back && Date.now() - started < 5_000) {
        back = await docs.findOne({ _id: 'before' }, { maxTimeMS: 500 }).then(
          (d) => d !== null,
          () => false,
        );
        if (!back) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(back).toBe(true);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(db.pid()).not.toBe(killed);
      expect(lines.join('\n')).toMatch(
        /FerretDB exited \(SIGKILL\); starting it again[\s\S]*FerretDB restarted/,
      );
    } finally {
      await client.close();
      const last = db.pid?.();
      await db.stop();
      if (last !== undefined) expect(running(last)).toBe(false); // stopped on request: not started again
    }
  });
});
