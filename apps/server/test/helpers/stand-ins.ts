import { setTimeout as delay } from 'node:timers/promises';

/** `target` with `key` read as `value`; everything else is the target's own. */
export function replacing<T extends object>(target: T, key: PropertyKey, value: unknown): T {
  return new Proxy(target, {
    get: (on, k) => (k === key ? value : (Reflect.get(on, k, on) as unknown)),
  });
}

/** The error a stalled method fails with. */
export const STALLED = 'the database did not answer';

/**
 * `target` with `method` replaced by one that fails with STALLED after 300 ms, as a database
 * that stopped answering does once its timeout is up; `calls.n` counts the calls. What the
 * replacement returns is both the failing promise and a query whose `lean()` gives it.
 */
export function stalled<T extends object>(
  target: T,
  method: keyof T & string,
): { stalled: T; calls: { n: number } } {
  const calls = { n: 0 };
  const fail = () => {
    calls.n++;
    const failing = delay(300).then(() => {
      throw new Error(STALLED);
    });
    return Object.assign(failing, { lean: () => failing });
  };
  return { stalled: replacing(target, method, fail), calls };
}
