/**
 * The shadow scorer (pure core): challenger snapshots in, shadow scores out.
 *
 * `add` loads a published ModelSnapshot (what the learner writes); `score`,
 * called by the joiner when a prediction arrives, scores the prediction with
 * every challenger of its model and returns `{ <snapshot version>: score }`,
 * the labelled example's `shadow_scores` (keys: contracts/shadow-key.ts; the
 * evaluator follows a challenger across its versions, see its `shadowRole`).
 *
 * No look-ahead: a prediction at time t is scored by the newest snapshot of
 * each challenger whose `created_at` <= t, i.e. what the challenger would have
 * said at prediction time (the learner stamps a snapshot with the event time
 * of the newest example it learned from). A challenger with no such snapshot
 * is left out; so is a non-finite score (counted in `nonFinite`).
 *
 * Memory: per model, the scorer remembers the largest prediction timestamp
 * scored so far; every snapshot older (by sequence number) than the newest one
 * created at or before it can no longer be chosen by an in-order prediction,
 * so it is dropped — at most the chosen snapshot and those created after it
 * are kept. A prediction that arrives out of order, older than every kept
 * snapshot of a challenger that dropped some (but not older than its first
 * snapshot), gets that challenger's oldest kept snapshot instead: a bounded
 * look-ahead (never past the snapshot an in-order prediction at the largest
 * timestamp so far got), counted in `outOfOrder`; its staleness (prediction
 * time − created_at) is then negative. A snapshot that arrives after a newer
 * one of its challenger was chosen (a re-delivery, or an old one published
 * late) can no longer be chosen either and is ignored unread. Each kept entry
 * holds the ModelSnapshot as given (its `parameters` text included, for
 * `latest`) and the rebuilt pipeline.
 *
 * The previous champion (docs/architecture.md, "Event contracts", roles): `decide` takes the decisions
 * of `model-promotions`. After a PROMOTE whose `from_version` is one of our
 * snapshots, every prediction at or after the decision's `at` also gets
 * that exact snapshot's score as the previous champion, so the replaced
 * champion keeps being measured (and the promoter's rollback watch has its
 * score once upstream serves the new one); a ROLLBACK ends it. A previous
 * champion that upstream built itself (no snapshot) cannot be scored here.
 * Because a decision names the snapshot that scored an example whose
 * feedback just arrived, a dropped snapshot stays available as text for
 * `retainMs` (the join window) after its successor took over; the
 * champion's and the previous champion's snapshots are kept as long as they
 * hold those roles. A decision read before the snapshot it names (the two
 * topics are read by separate consumers; at start the snapshots take
 * longer) waits for it: previous scores start when it arrives.
 *
 * Multiclass snapshots (a `multiclass_pipeline`, issue 16): a version's score
 * is one probability per class, each under `<key>#<i>`
 * (contracts/shadow-key.ts classShadowKey), i the class's position in the
 * model's configured classes (`classesOf`; the snapshot's own class order
 * when none is given); a class of the snapshot outside them is left out. A
 * version with any non-finite probability is left out whole (counted once in
 * `nonFinite`). The previous champion's classes are scored the same way.
 * Multilabel snapshots (a `multilabel_pipeline`) likewise: `<key>#<i>` is
 * the probability that label i (models.<name>.classes) applies.
 */
import { classShadowKey, parseSnapshotVersion, shadowKey } from '../contracts/index.js';
import type { ModelSnapshot, Prediction, PromotionDecision } from '../events.js';
import type { ShadowScoring } from '../join/index.js';
import { ModelError } from '../models/index.js';
import { challengerFromSnapshot, isClassModel, type ChallengerModel } from './challenger-model.js';

interface Entry {
  snapshot: ModelSnapshot;
  /** n of the version `<model>/<challenger>@<n>`. */
  sequence: number;
  pipeline: ChallengerModel;
}

interface ChallengerState {
  /** Kept snapshots, by ascending sequence number. */
  entries: Entry[];
  /** True once older snapshots were dropped (an out-of-order prediction may then look ahead). */
  pruned: boolean;
  /** Smallest created_at of any snapshot added: before it, the challenger had no snapshot. */
  firstCreatedAt: number;
}

interface ModelState {
  challengers: Map<string, ChallengerState>;
  /** Largest prediction timestamp scored for the model. */
  maxTimestamp: number;
  /** Largest created_at of the snapshots added. */
  maxCreatedAt: number;
  /** Dropped snapshots by version, with the created_at of the one that replaced each. */
  dropped: Map<string, { snapshot: ModelSnapshot; replacedAt: number }>;
  /** The champion named by the latest PROMOTE / ROLLBACK (its snapshot once known). */
  champion: { version: string; snapshot: ModelSnapshot | null } | null;
  /** The previous champion, scored in that role from `since` (event time) on. */
  previous: { version: string; snapshot: ModelSnapshot; pipeline: ChallengerModel; since: number } | null;
  /** A previous champion named by a decision before its snapshot was added (the two topics are read apart). */
  awaitedPrevious: { version: string; since: number } | null;
}

export interface ShadowScorerStats {
  /** Scores returned (one per challenger per prediction). */
  scored: number;
  /** Scores made with a snapshot created after the prediction (an out-of-order prediction, see the file comment). */
  outOfOrder: number;
  /** Scores left out because the model returned NaN or ±Infinity. */
  nonFinite: number;
  /** Largest prediction.timestamp − snapshot.created_at over the scores returned (0 before any). */
  maxStalenessMs: number;
  /** Mean of the same (0 before any). */
  meanStalenessMs: number;
}

export interface ShadowScorerOptions {
  /** How long a dropped snapshot stays available to a decision naming it, after its successor's created_at. Default 7 days. */
  retainMs?: number;
  /** A multiclass model's configured classes, in order (the `#<i>` of its shadow keys); none: the snapshot's own order. */
  classesOf?: (model: string) => readonly string[];
}

export class ShadowScorer implements ShadowScoring {
  private readonly models = new Map<string, ModelState>();
  private readonly retainMs: number;
  private readonly classesOf: (model: string) => readonly string[];
  private scored = 0;
  private outOfOrder = 0;
  private nonFinite = 0;
  private maxStaleness = Number.NEGATIVE_INFINITY;
  private stalenessSum = 0;

  constructor(options: ShadowScorerOptions = {}) {
    this.retainMs = options.retainMs ?? 7 * 86_400_000;
    this.classesOf = options.classesOf ?? (() => []);
  }

  /**
   * Loads a snapshot. A duplicate version, or one that can no longer be
   * chosen, is ignored; parameters that do not parse as a pipeline snapshot
   * (or a version that is not `<model>/<challenger>@<n>`) throw a ModelError naming the version.
   */
  add(snapshot: ModelSnapshot): void {
    const sequence = parseSnapshotVersion(snapshot.version)?.sequence;
    if (sequence === undefined) throw new ModelError(`snapshot ${JSON.stringify(snapshot.version)}: the version is not <model>/<challenger>@<n>`);
    const model = this.modelState(snapshot.model);
    let challenger = model.challengers.get(snapshot.challenger);
    if (!challenger) {
      challenger = { entries: [], pruned: false, firstCreatedAt: snapshot.created_at };
      model.challengers.set(snapshot.challenger, challenger);
    }
    challenger.firstCreatedAt = Math.min(challenger.firstCreatedAt, snapshot.created_at);
    model.maxCreatedAt = Math.max(model.maxCreatedAt, snapshot.created_at);
    if (model.awaitedPrevious?.version === snapshot.version) {
      // The previous champion is scored whether or not the snapshot can still be a challenger's.
      model.previous = { version: snapshot.version, snapshot, pipeline: parsePipeline(snapshot), since: model.awaitedPrevious.since };
      model.awaitedPrevious = null;
    }
    const entries = challenger.entries;
    if (entries.some((e) => e.snapshot.version === snapshot.version || e.sequence === sequence)) return;
    const oldest = entries[0];
    if (challenger.pruned && oldest !== undefined && sequence < oldest.sequence) return;

    const pipeline = parsePipeline(snapshot);

    let i = entries.length;
    while (i > 0 && entries[i - 1]!.sequence > sequence) i--;
    entries.splice(i, 0, { snapshot, sequence, pipeline });
    if (model.champion?.version === snapshot.version && model.champion.snapshot === null) model.champion.snapshot = snapshot;
    this.prune(model, challenger);
  }

  /**
   * Applies a decision of `model-promotions` (see the file comment): after a PROMOTE from one of
   * our snapshots, predictions at or after its `at` get that snapshot's score as the previous champion;
   * a ROLLBACK ends it. Other decisions change nothing.
   */
  decide(decision: PromotionDecision): void {
    if (decision.decision !== 'PROMOTE' && decision.decision !== 'ROLLBACK') return;
    const model = this.modelState(decision.model);
    const replaced = model.champion?.version === decision.from_version ? model.champion.snapshot : this.find(model, decision.from_version);
    model.champion = { version: decision.to_version, snapshot: this.find(model, decision.to_version) };
    model.previous = null;
    model.awaitedPrevious = null;
    if (decision.decision !== 'PROMOTE') return;
    if (replaced !== null) {
      model.previous = { version: replaced.version, snapshot: replaced, pipeline: parsePipeline(replaced), since: decision.at };
    } else if (parseSnapshotVersion(decision.from_version)?.model === decision.model) {
      // One of our snapshots, not read yet (at start the snapshots topic takes longer than the decisions).
      model.awaitedPrevious = { version: decision.from_version, since: decision.at };
    }
  }

  /** The previous champion a model's predictions are scored with, if any. */
  previousOf(model: string): { version: string; since: number } | null {
    const previous = this.models.get(model)?.previous;
    return previous ? { version: previous.version, since: previous.since } : null;
  }

  /** A snapshot held, recently dropped, or in a role, by version; null when none. */
  private find(model: ModelState, version: string): ModelSnapshot | null {
    for (const challenger of model.challengers.values()) {
      const entry = challenger.entries.find((e) => e.snapshot.version === version);
      if (entry) return entry.snapshot;
    }
    if (model.previous?.version === version) return model.previous.snapshot;
    const dropped = model.dropped.get(version);
    return dropped !== undefined && dropped.replacedAt >= this.horizon(model) ? dropped.snapshot : null;
  }

  /** The time prune() works at (see there). */
  private pruneTime(model: ModelState): number {
    return Math.max(model.maxTimestamp, model.maxCreatedAt - this.retainMs);
  }

  /** Dropped snapshots replaced before this are forgotten. */
  private horizon(model: ModelState): number {
    return this.pruneTime(model) - this.retainMs;
  }

  /**
   * prune(), keeping what it drops as text for retainMs, and forgetting what is older. The time it
   * prunes at is the largest prediction timestamp, or, when that is further back (at start, before
   * the first predictions, while the whole snapshots topic is read), retainMs before the newest
   * snapshot: a prediction older than that gets the oldest kept snapshot (counted in outOfOrder),
   * and memory stays bounded by the snapshots of retainMs instead of all of them. The dropped text
   * past the horizon is deleted when more is dropped (find() checks the horizon itself), so a
   * prediction that drops nothing does not scan it.
   */
  private prune(model: ModelState, challenger: ChallengerState): void {
    const dropped = prune(challenger, this.pruneTime(model));
    if (dropped.length === 0) return;
    for (const entry of dropped) {
      model.dropped.set(entry.dropped.snapshot.version, { snapshot: entry.dropped.snapshot, replacedAt: entry.replacedAt });
    }
    const horizon = this.horizon(model);
    for (const [version, kept] of model.dropped) if (kept.replacedAt < horizon) model.dropped.delete(version);
  }

  /** `{ version: score }` for every challenger of the prediction's model with a snapshot at prediction time. */
  score(prediction: Prediction): Record<string, number> {
    const out: Record<string, number> = {};
    const model = this.models.get(prediction.model);
    if (!model) return out;
    const classes = this.classesOf(prediction.model);
    const t = prediction.timestamp;
    const advanced = t > model.maxTimestamp;
    if (advanced) model.maxTimestamp = t;
    for (const challenger of model.challengers.values()) {
      if (advanced) this.prune(model, challenger);
      const entries = challenger.entries;
      let chosen: Entry | undefined;
      for (let i = entries.length - 1; i >= 0; i--) {
        if (entries[i]!.snapshot.created_at <= t) {
          chosen = entries[i];
          break;
        }
      }
      let lookAhead = false;
      if (chosen === undefined) {
        // Only dropped snapshots were old enough: the oldest kept one is the nearest.
        if (!challenger.pruned || entries.length === 0 || t < challenger.firstCreatedAt) continue;
        chosen = entries[0];
        lookAhead = true;
      }
      if (!put(out, shadowKey('challenger', chosen!.snapshot.version), chosen!.pipeline, prediction, classes)) {
        this.nonFinite++;
        continue;
      }
      if (lookAhead) this.outOfOrder++;
      const staleness = t - chosen!.snapshot.created_at;
      this.scored++;
      this.stalenessSum += staleness;
      if (staleness > this.maxStaleness) this.maxStaleness = staleness;
    }
    const previous = model.previous;
    if (previous !== null && t >= previous.since) {
      if (!put(out, shadowKey('previous', previous.version), previous.pipeline, prediction, classes)) this.nonFinite++;
    }
    return out;
  }

  stats(): ShadowScorerStats {
    return {
      scored: this.scored,
      outOfOrder: this.outOfOrder,
      nonFinite: this.nonFinite,
      maxStalenessMs: this.scored > 0 ? this.maxStaleness : 0,
      meanStalenessMs: this.scored > 0 ? this.stalenessSum / this.scored : 0,
    };
  }

  /** The latest snapshot (highest n) of each challenger of a model. */
  latest(model: string): ModelSnapshot[] {
    const out: ModelSnapshot[] = [];
    for (const challenger of this.models.get(model)?.challengers.values() ?? []) {
      const last = challenger.entries[challenger.entries.length - 1];
      if (last) out.push(last.snapshot);
    }
    return out;
  }

  /** How many snapshots of a challenger are held (for tests: pruning keeps this small). */
  kept(model: string, challenger: string): number {
    return this.models.get(model)?.challengers.get(challenger)?.entries.length ?? 0;
  }

  private modelState(model: string): ModelState {
    let state = this.models.get(model);
    if (!state) {
      state = { challengers: new Map(), maxTimestamp: Number.NEGATIVE_INFINITY, maxCreatedAt: Number.NEGATIVE_INFINITY, dropped: new Map(), champion: null, previous: null, awaitedPrevious: null };
      this.models.set(model, state);
    }
    return state;
  }
}

/**
 * Puts a version's score of a prediction under `key` (binary, regression) or its class
 * (or label) probabilities under `key#<i>` (multiclass, multilabel, see the file comment); false (nothing put) when
 * a value is not finite.
 */
function put(out: Record<string, number>, key: string, model: ChallengerModel, prediction: Prediction, classes: readonly string[]): boolean {
  if (!isClassModel(model)) {
    const value = model.predictOne(prediction);
    if (!Number.isFinite(value)) return false;
    out[key] = value;
    return true;
  }
  const p = model.predictProbaOne(prediction);
  for (let c = 0; c < p.length; c++) if (!Number.isFinite(p[c]!)) return false;
  const names = model.classes();
  for (let c = 0; c < p.length; c++) {
    const i = classes.length === 0 ? c : classes.indexOf(names[c]!);
    if (i >= 0) out[classShadowKey(key, i)] = p[c]!;
  }
  return true;
}

/** The model of a snapshot; a ModelError naming the version when its parameters are not one. */
function parsePipeline(snapshot: ModelSnapshot): ChallengerModel {
  let parsed: unknown;
  try {
    parsed = JSON.parse(snapshot.parameters);
  } catch (error) {
    throw new ModelError(`snapshot ${snapshot.version}: parameters are not JSON (${(error as Error).message})`);
  }
  try {
    return challengerFromSnapshot(parsed);
  } catch (error) {
    throw new ModelError(`snapshot ${snapshot.version}: ${(error as Error).message}`);
  }
}

/** Drops every snapshot older than the newest one created at or before `maxTimestamp`; returns them with their successor's created_at. */
function prune(challenger: ChallengerState, maxTimestamp: number): Array<{ dropped: Entry; replacedAt: number }> {
  const entries = challenger.entries;
  for (let i = entries.length - 1; i > 0; i--) {
    if (entries[i]!.snapshot.created_at <= maxTimestamp) {
      const dropped = entries.splice(0, i);
      challenger.pruned = true;
      return dropped.map((entry, k) => ({ dropped: entry, replacedAt: (dropped[k + 1] ?? entries[0]!).snapshot.created_at }));
    }
  }
  return [];
}
