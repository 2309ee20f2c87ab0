import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * Stops a process (SIGSTOP) and waits until each of its threads has stopped (Linux: /proc).
 * `kill` returns before that: the kernel wakes one thread to start the stop, and the others
 * run on until it gets a CPU. On a busy machine the embedded FerretDB answered commands for
 * 50 ms after `kill` returned, so a request sent "after the stop" was answered (fault.test,
 * CI 2026-12-07).
 * @throws when the process is not stopped within `timeoutMs` (it is then continued).
 */
export async function stopProcess(pid: number, timeoutMs = 2_000): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  const deadline = Date.now() + timeoutMs;
  while (!(await isStopped(pid))) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGCONT');
      throw new Error(`process ${pid} not stopped after ${timeoutMs} ms`);
    }
    await delay(1);
  }
}

async function isStopped(pid: number): Promise<boolean> {
  const threads = await readdir(`/proc/${pid}/task`);
  const states = await Promise.all(
    threads.map(async (tid) => {
      // A thread that ended meanwhile runs no more: as good as stopped.
      const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => ') T');
      // The state is the field after the command name, which may itself hold ") ".
      return stat.charAt(stat.lastIndexOf(') ') + 2);
    }),
  );
  return states.every((state) => state === 'T');
}
