import { createContext, useContext, type ReactNode } from 'react';
import type { Call } from '../api/http';
import type { LiveFeed } from '../api/live';
import type { CryptoClient } from '../crypto/client';
import type { RecordSearch } from '../features/search/client';

/**
 * What features need from the outside world: the API (`call`) and the crypto worker. main.tsx
 * builds the real ones (fetch + a Web Worker); tests build the same against a real test
 * server and the crypto API on a MessageChannel.
 */
export interface Services {
  call: Call;
  crypto: CryptoClient;
  /** Changes pushed by the server to open tabs. */
  live: LiveFeed;
  /** A new, empty search index of decrypted records (one per unlocked session, in a worker). */
  search(): RecordSearch;
  /** Today's date as YYYY-MM-DD in the user's time zone (the default clinical date). */
  today(): string;
}

const ServicesContext = createContext<Services | null>(null);

export function ServicesProvider({
  services,
  children,
}: {
  services: Services;
  children: ReactNode;
}) {
  return <ServicesContext.Provider value={services}>{children}</ServicesContext.Provider>;
}

export function useServices(): Services {
  const services = useContext(ServicesContext);
  if (!services) throw new Error('useServices outside ServicesProvider');
  return services;
}

export function localToday(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}
