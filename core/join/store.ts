/**
 * The joiner's state: one entry per prediction_id, plus an index of expiry
 * times. Synchronous by design: the join runs a whole batch without
 * awaiting, and the processor wraps a batch in one store transaction.
 *
 * MemoryJoinStore keeps everything on the heap (tests); PackedJoinStore
 * (packed-store.ts) too, each prediction as its bytes (replays); the
 * processor's disk-backed store keeps entries off the heap.
 */
import type { Feedback, FeedbackType, Prediction, ReplacedLabel } from '../events.js';
import { ExpiryHeap } from './expiry-heap.js';
import type { Outcome } from './resolution.js';

/**
 * The label currently in force for a prediction, and where it came from. Its
 * heads are an Outcome (resolution.ts): `label` for binary and regression (and
 * a multi-class model's numeric head), `label_class` or `rejected_class` for
 * multi-class, `labels` for multi-label; the others null.
 */
export interface ResolvedLabel extends Outcome {
  trust: number;
  feedback_type: FeedbackType;
  feedback_timestamp: number;
  source: string | null;
  /** The example that carries this label downstream. */
  example_id: string;
  /**
   * What that example carried, when a later feedback with the same label took
   * over (it is not re-emitted): a correction of it must name what was counted.
   * Absent: the fields above are the example's.
   */
  emitted?: Pick<ReplacedLabel, 'feedback_type' | 'source' | 'feedback_timestamp'>;
}

export interface JoinEntry {
  /** Null while only feedback has been seen (feedback before its prediction). */
  prediction: Prediction | null;
  shadow_scores: Record<string, number>;
  /** Feedback that arrived before the prediction, in arrival order. */
  early: Feedback[];
  resolved: ResolvedLabel | null;
  /** Examples emitted so far for this prediction (example ids are `<prediction_id>#<seq>`). */
  seq: number;
  /** Hashes of every feedback seen, to recognise exact duplicates. */
  seen: number[];
  /** Event time (ms) at which the entry expires. */
  expires_at: number;
}

/**
 * An entry as written before the class fields existed (a changelog record of an older
 * joiner), with them filled in as their defaults: no classes, no class label. Entries
 * that have them come back as they are.
 */
export function withClassDefaults(entry: JoinEntry): JoinEntry {
  const p = entry.prediction;
  if (p && p.class_scores === undefined) entry.prediction = { ...p, class_scores: {}, predicted_class: p.predicted_class ?? null, predicted_labels: p.predicted_labels ?? null };
  entry.early = entry.early.map((f) => (f.label_class === undefined ? { ...f, label_class: null, labels: f.labels ?? null, labels_added: f.labels_added ?? null, labels_removed: f.labels_removed ?? null } : f));
  const r = entry.resolved;
  if (r && r.label_class === undefined) entry.resolved = { ...r, label_class: null, rejected_class: r.rejected_class ?? null, labels: r.labels ?? null };
  return entry;
}

export interface JoinStore {
  get(predictionId: string): JoinEntry | undefined;
  set(predictionId: string, entry: JoinEntry): void;
  delete(predictionId: string): void;
  /**
   * Records that `predictionId` may expire at `at`. The index may hold stale
   * times (an entry whose expiry moved): takers re-check the entry.
   */
  addExpiry(at: number, predictionId: string): void;
  /** Removes and returns the index items with at <= watermark, ordered by (at, id). */
  takeExpired(watermark: number): Array<{ at: number; id: string }>;
  /** Number of entries. */
  size(): number;
  /**
   * Runs `fn` as one store transaction when the store has them (one commit
   * per batch; a throw rolls back). `fn` must be synchronous.
   */
  transaction?<T>(fn: () => T): T;
  /** Releases what the store holds (files, handles). */
  close?(): Promise<void> | void;
}

/** A Map of entries plus an expiry heap. */
export class MemoryJoinStore implements JoinStore {
  private readonly entries = new Map<string, JoinEntry>();
  private readonly expiries = new ExpiryHeap();

  get(predictionId: string): JoinEntry | undefined {
    return this.entries.get(predictionId);
  }

  set(predictionId: string, entry: JoinEntry): void {
    this.entries.set(predictionId, entry);
  }

  delete(predictionId: string): void {
    this.entries.delete(predictionId);
  }

  size(): number {
    return this.entries.size;
  }

  /** Entries in insertion order (for snapshots and tests). */
  *all(): IterableIterator<[string, JoinEntry]> {
    yield* this.entries;
  }

  addExpiry(at: number, id: string): void {
    this.expiries.add(at, id);
  }

  takeExpired(watermark: number): Array<{ at: number; id: string }> {
    return this.expiries.takeUpTo(watermark);
  }
}
