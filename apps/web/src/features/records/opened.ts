import type { RecordDto, Recipient } from '@medseal/contract';
import type { TeamAttestation } from '@medseal/crypto';
import type { Person } from '../../app/keyBook';
import type { KeyHandle } from '../../crypto/client';
import type { VerifiedTeam } from '../teams/teamService';
import type { RecordContent } from './content';
import type { RecordFailure } from './failures';

/** A care team that verifiably reads a record version (DESIGN §13). */
export interface ReaderTeam {
  team: VerifiedTeam;
  /** The team key generation the stored message is for. */
  gen: number;
}

export type OpenedRecord =
  | {
      status: 'verified';
      dto: RecordDto;
      content: RecordContent;
      author: Person;
      authorVerified: boolean;
      signedAt: Date;
      /**
       * Who can read this version: the server's list once it equals the signed envelope's
       * readers plus the grantees of valid grants (DESIGN §12 "Readers"). Each fingerprint is
       * verified; a new version is encrypted only to keys with these fingerprints.
       */
      readers: Recipient[];
      /**
       * Readers whose key the directory did not give when this version was opened: their packet
       * in the message could not be checked (a reader listed with an old grant, her lookup made
       * to fail, would pass as one). Nothing new is encrypted to them (`checkedReaders`).
       */
      uncheckedReaders: string[];
      /** The fingerprints the author encrypted this version to, as she signed them (the envelope's readers; grantees come later). */
      signedRecipients: string[];
      /** The care teams that read it, each verified from its signed log. */
      teams: ReaderTeam[];
      /** The author's attested role when a team reading this record attests her key; else her role is self-declared. */
      attestation: TeamAttestation | null;
      /** The key I opened it with (mine, or a team's I am a member of): its files open with it too. */
      readingKey: KeyHandle;
      /** Set when this version is a re-key: the team admin who signed it, and when (the content and author are its base's). */
      rekeyedBy: { person: Person; at: Date } | null;
    }
  /** Crypto's own status (or `unknown-content`), unchanged: the UI words it (failures.ts). */
  | (RecordFailure & { dto: RecordDto });

export type VerifiedRecord = Extract<OpenedRecord, { status: 'verified' }>;
