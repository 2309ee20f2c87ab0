// Key transparency (DESIGN §14, issue 12): the Merkle log's hashing and proofs, signed tree
// heads, the leaf format and the client checks. docs/decisions.md "Key transparency".
export {
  EMPTY_ROOT,
  HASH_BYTES,
  assemblePlan,
  consistencyPlan,
  extendFrontier,
  foldRange,
  inclusionPlan,
  leafHash,
  nodeHash,
  nodeKey,
  rangeNodes,
  rootFromInclusionProof,
  rootPlan,
  verifyConsistency,
  verifyInclusion,
} from './merkle';
export type { NodeId, ProofStep } from './merkle';
export {
  TREE_HEAD_VERSION,
  checkHeadShape,
  generateLogKey,
  headMapRoot,
  headSigningBytes,
  hexToBytes,
  logPublicKeyOf,
  parseSignedTreeHead,
  signTreeHead,
  verifyTreeHead,
} from './heads';
export type { LogKeyPair, SignedTreeHead, TreeHead, TreeHeadV1, TreeHeadV2 } from './heads';
export {
  EMPTY_MAP_ROOT,
  MAP_DEPTH,
  MemoryMap,
  mapInsert,
  mapKey,
  mapLookup,
  mapNodeHash,
  mapValueAfter,
  verifyMapLookup,
  withheldLeaves,
} from './map';
export type { MapEntry, MapNode, MapNodeSource, MapProof, MapValue } from './map';
export {
  BINDING_VERSION,
  bindingLeafHash,
  emailCommitment,
  encodeBinding,
  keyIdentityOf,
  memberSubject,
  parseBinding,
  subjectOf,
  teamMemberBindingOf,
  teamStatementBindingOf,
  teamSubject,
  USER_KEY_BINDING_VERSION,
} from './bindings';
export type {
  KtBinding,
  LoggedBinding,
  TeamMemberBinding,
  TeamStatementBinding,
  UserKeyBinding,
  UserKeyBindingV1,
  UserKeyBindingV2,
} from './bindings';
export {
  auditTeamLeaves,
  checkGossipHead,
  checkHeadUpdate,
  checkOwnBindings,
  checkOwnMemberships,
  checkTeamInLog,
  verifyKeyInLog,
} from './checks';
export type {
  GossipResult,
  OwnBindingsResult,
  OwnMembershipsResult,
  ProvenBinding,
  TeamLogResult,
  UnknownMembership,
} from './checks';
