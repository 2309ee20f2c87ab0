// Key transparency (DESIGN §14, issue 12): the Merkle log's hashing and proofs, signed tree
// heads, the leaf format and the client checks. docs/decisions.md "Key transparency".
export {
  EMPTY_ROOT,
  HASH_BYTES,
  assemblePlan,
  consistencyPlan,
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
  headSigningBytes,
  hexToBytes,
  logPublicKeyOf,
  parseSignedTreeHead,
  signTreeHead,
  verifyTreeHead,
} from './heads';
export type { LogKeyPair, SignedTreeHead, TreeHead } from './heads';
export {
  BINDING_VERSION,
  bindingLeafHash,
  encodeBinding,
  keyIdentityOf,
  parseBinding,
} from './bindings';
export type { KtBinding, LoggedBinding, UserKeyBinding } from './bindings';
export { checkGossipHead, checkHeadUpdate, checkOwnBindings, verifyKeyInLog } from './checks';
export type { GossipResult, OwnBindingsResult, ProvenBinding } from './checks';
