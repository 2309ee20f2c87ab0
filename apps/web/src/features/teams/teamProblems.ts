import type { ReplayTeamLogResult } from '@medseal/crypto';

/** Why a care team's signed history was not accepted (DESIGN §13): nothing of the team is used. */
export type TeamProblem = Exclude<ReplayTeamLogResult, { status: 'verified' }>;

/** One plain sentence per problem (STYLE.md §20), for the team pages and for records the team reads. */
export function explainTeamProblem(problem: TeamProblem): string {
  switch (problem.status) {
    case 'invalid':
      return `Security warning: this care team’s signed history does not verify (change ${problem.seq}: ${problem.message}). Someone may have been added to it without an admin’s signature. Nothing of the team is used.`;
    case 'rollback':
      return `Security warning: the server shows an older list of this care team’s members than you have already seen (up to change ${problem.servedSeq}; you saw change ${problem.pinnedSeq}). Someone’s removal may be hidden. Nothing of the team is used.`;
    case 'fork':
      return `Security warning: the server shows another history of this care team than the one you saw (change ${problem.seq}). Nothing of the team is used.`;
  }
}
