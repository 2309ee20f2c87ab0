import type { Connection } from 'mongoose';

/**
 * Hooks `run` into the next call of one model method of `connection` (the object the server
 * writes through), once: `before` the call goes to the database, or `after` it is stored. Sends
 * `request` and removes the hook, whatever happens. Forces an interleaving of two requests.
 * @returns the request's answer and what `run` gave (undefined: the hook never ran).
 */
export async function hookedInto<A, R>(
  connection: Connection,
  hook: { model: string; method: 'create' | 'replaceOne' | 'updateOne'; at: 'before' | 'after' },
  run: () => Promise<R>,
  request: () => Promise<A>,
): Promise<{ answer: A; ran: R | undefined }> {
  const model = connection.models[hook.model];
  if (!model) throw new Error(`${hook.model} model not registered`);
  const original = model[hook.method].bind(model) as (...args: never[]) => Promise<unknown>;
  let ran: R | undefined;
  const spy = jest.spyOn(model, hook.method).mockImplementationOnce((async (...args: never[]) => {
    if (hook.at === 'before') ran = await run();
    const written = await original(...args);
    if (hook.at === 'after') ran = await run();
    return written;
  }) as never);
  try {
    return { answer: await request(), ran };
  } finally {
    spy.mockRestore();
  }
}

/** How many documents of `recordId` each collection holds (by its `recordId` field). */
export async function storedOf(
  connection: Connection,
  recordId: string,
  collections: readonly string[],
): Promise<Record<string, number>> {
  return Object.fromEntries(
    await Promise.all(
      collections.map(
        async (c) =>
          [c, await connection.collection(c).countDocuments({ recordId } as never)] as const,
      ),
    ),
  );
}
