// Seeding for the benches that fill the database through the API (rotation.ts, teams.ts).

/**
 * A seeding call, tried again after a 503 (the embedded database on a busy machine); on a retry,
 * `done` says whether an error means the lost attempt already landed (a repeated create is
 * answered as stored; a repeated grant is `already-recipient`).
 */
export async function seedCall<T>(
  call: () => Promise<T>,
  done: (error: Error) => boolean = () => false,
): Promise<T | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      if (attempt > 0 && done(error)) return undefined;
      if (attempt >= 6 || !/HTTP 503/.test(error.message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
    }
  }
}
