/** Jest globalTeardown: stops the server that jest-global-setup started. */
export default async function globalTeardown(): Promise<void> {
  await globalThis.__medsealDevDb?.stop();
}
