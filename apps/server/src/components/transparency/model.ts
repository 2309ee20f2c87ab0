import { Schema, type Connection, type mongo } from 'mongoose';
import { modelOn } from '../../lib/model';

// The key-transparency log (DESIGN §14, docs/decisions.md "Key transparency"). Every read on the
// embedded database is an `_id` lookup (DESIGN §9): leaves by index, tiles by level:tile, heads
// by tree size, subjects by user id, map nodes by hash.

/** One leaf; the insert of a new index is the step that claims a place in the log. */
export interface KtLeafDoc {
  _id: number;
  /** The binding's canonical JSON, exactly as hashed. */
  data: string;
  /** Whose binding it is (the subject's history lists it). */
  subject: string;
}

/** 8 levels of one subtree (log.ts `tileSlot`): 510 node hashes, 32 bytes each; zeros where not yet complete. */
export interface KtTileDoc {
  _id: string;
  hashes: Buffer | mongo.Binary;
}

/**
 * A signed tree head; `_id` is the tree size. Inserted once, after its tiles and map nodes: the
 * commit step. `mapRoot` (a v2 head) is missing only on a head from before the subject map,
 * until the `kt-map-1` migration signs it again with the map of its tree.
 */
export interface KtHeadDoc {
  _id: number;
  root: string;
  mapRoot?: string;
  timestamp: number;
  signature: string;
}

/**
 * A node of the subject map (crypto `MapNode`), addressed by its hash: an entry (`key`, `count`,
 * `lastIndex`, `chain`) or two children (`left`, `right`). Never changes; a new map shares all
 * of the old one but its new path.
 */
export interface KtMapNodeDoc {
  _id: string;
  key?: string;
  count?: number;
  lastIndex?: number;
  chain?: string;
  left?: string;
  right?: string;
}

/** The leaf indexes of one subject's bindings, oldest first. */
export interface KtSubjectDoc {
  _id: string;
  indexes: number[];
}

/** `latest`: a hint to the newest head's size (readers look past it by `_id`). */
export interface KtMetaDoc {
  _id: string;
  size: number;
}

const opts = { versionKey: false, strict: 'throw' } as const;

export function ktModels(connection: Connection) {
  return {
    leaves: modelOn(
      connection,
      'KtLeaf',
      new Schema<KtLeafDoc>(
        {
          _id: Number,
          data: { type: String, required: true },
          subject: { type: String, required: true },
        },
        opts,
      ),
      'kt_leaves',
    ),
    tiles: modelOn(
      connection,
      'KtTile',
      new Schema<KtTileDoc>({ _id: String, hashes: { type: Buffer, required: true } }, opts),
      'kt_tiles',
    ),
    heads: modelOn(
      connection,
      'KtHead',
      new Schema<KtHeadDoc>(
        {
          _id: Number,
          root: { type: String, required: true },
          mapRoot: String,
          timestamp: { type: Number, required: true },
          signature: { type: String, required: true },
        },
        opts,
      ),
      'kt_heads',
    ),
    subjects: modelOn(
      connection,
      'KtSubject',
      new Schema<KtSubjectDoc>({ _id: String, indexes: { type: [Number], required: true } }, opts),
      'kt_subjects',
    ),
    mapNodes: modelOn(
      connection,
      'KtMapNode',
      new Schema<KtMapNodeDoc>(
        {
          _id: String,
          key: String,
          count: Number,
          lastIndex: Number,
          chain: String,
          left: String,
          right: String,
        },
        opts,
      ),
      'kt_map_nodes',
    ),
    meta: modelOn(
      connection,
      'KtMeta',
      new Schema<KtMetaDoc>({ _id: String, size: { type: Number, required: true } }, opts),
      'kt_meta',
    ),
  };
}
export type KtModels = ReturnType<typeof ktModels>;
