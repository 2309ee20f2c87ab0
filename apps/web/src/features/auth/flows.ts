import type { RegisterRequest, Role } from '@medseal/contract';

export interface RegisterInput {
  role: Role;
  name: string;
  email: string;
  password: string;
}

/** Everything made in the browser before the account exists; sent only after the kit is confirmed. */
export interface PreparedRegistration {
  email: string;
  recoveryWords: string[];
  request: RegisterRequest;
}

export interface RegisterFlows {
  prepare(input: RegisterInput, onProgress: (stage: string, fraction: number | null) => void): Promise<PreparedRegistration>;
  complete(prepared: PreparedRegistration): Promise<void>;
}
