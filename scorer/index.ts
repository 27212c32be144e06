/**
 * The scorer library for upstream apps (`import { ChampionScorer } from
 * 'feedbackloop/scorer'`): keeps the current champion of one model in
 * memory and scores with it, synchronously.
 *
 * It reads `model-snapshots` (every version of the model) and
 * `model-promotions` (the decisions: PROMOTE and ROLLBACK name the version
 * to serve, `to_version`). Until a decision names a version it follows the
 * `follow` challenger's newest snapshot, if given, else it has no champion
 * and score() throws. A swap happens between two score() calls: the new
 * pipeline is built off the scoring path and replaces the old one in one
 * assignment, so no request is dropped or sees half a model.
 *
 * Memory: the snapshots of the model are kept as text (a decision may name
 * any version), but only those created within `retainMs` (default 7 days)
 * of the model's newest, plus the versions served now and just before (a
 * rollback swaps back at once). A decision naming an older version, one
 * already dropped, makes the scorer re-read `model-snapshots` (compacted by
 * version, so it still holds every snapshot) for it in the background; it
 * keeps serving the current champion meanwhile, and swaps once found.
 * Dropped = its sequence number `@n` is below the newest of its challenger
 * read so far; a higher one has simply not arrived yet, and is waited for.
 * (The learner writes a model's snapshots to one partition in order, so this
 * is exact; were they spread over partitions, a version not read yet could be
 * taken for dropped, which costs a needless re-read, not a wrong champion.)
 *
 * A decision may name a version upstream built itself (any version that is
 * not a snapshot key `<model>/<challenger>@<n>`: typically a ROLLBACK to the
 * model upstream served before the first promotion). The scorer cannot serve
 * it; from then on `champion()` says `{ version, own: true }` and score()
 * throws an OwnModelError naming the version, so the app scores with its own
 * model again — until a later decision names a snapshot.
 *
 * A multiclass champion (a `multiclass_pipeline` snapshot, issue 16) scores
 * an input into one probability per class: `classes` (the model's, in order),
 * `probabilities` (by class position), `predicted_class` (the arg-max, the
 * first class on a tie) and `score`, the predicted class's probability.
 * A multilabel champion (a `multilabel_pipeline`) scores an input into one
 * independent probability per label: `classes` (the labels, in order),
 * `probabilities`, `predicted_labels` (those at or above 0.5,
 * DEFAULT_LABEL_THRESHOLD: a snapshot carries no threshold; apply your own to
 * `probabilities` for another) and `score`, the largest label probability.
 */
import { Agent as HttpsAgent } from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { SASLOptions } from 'kafkajs';
import { RegistryCodec, type Codec } from '../adapters/codec/codec.js';
import { KafkaTransport, type KafkaTransportOptions } from '../adapters/kafka/transport.js';
import type { LogConsumer, LogRecord, LogTransport } from '../adapters/transport/transport.js';
import { parseSnapshotVersion, versionIdentity } from '../core/contracts/index.js';
import { DecodeError, errorMessage, FeedbackloopError } from '../core/errors.js';
import type { ModelSnapshot, PromotionDecision } from '../core/events.js';
import { challengerFromSnapshot, isMulticlass, isMultilabel, type ChallengerModel } from '../core/learn/challenger-model.js';
import { DEFAULT_LABEL_THRESHOLD } from '../core/models/index.js';
import type { ModelInput } from '../core/models/index.js';

/**
 * Where the scorer's servers are, and how it proves who it is: the same
 * settings `run` takes (README, "Security"), as values rather than files.
 */
export interface ScorerConnection {
  brokers: string[];
  schemaRegistryUrl: string;
  clientId?: string;
  /** Kafka TLS: true (the system's CAs) or Node's TLS options (`ca`, and `cert` + `key` for mutual TLS). */
  ssl?: boolean | ConnectionOptions;
  /** Kafka SASL (plain, scram-sha-256, scram-sha-512). */
  sasl?: SASLOptions;
  /** The registry's basic auth, and the CA(s) its https certificate is checked against. */
  schemaRegistry?: { username?: string; password?: string; ca?: string | Buffer };
}

type RegistryArgs = ConstructorParameters<typeof SchemaRegistry>[0];

/** The Kafka transport's and the registry client's settings for a connection (checked: never an unverified TLS peer). */
export function scorerClients(c: ScorerConnection): { transport: KafkaTransportOptions; registry: { args: RegistryArgs } } {
  const kafka = { ...(c.ssl === undefined ? {} : { ssl: typeof c.ssl === 'boolean' ? c.ssl : { ...c.ssl, rejectUnauthorized: true } }), ...(c.sasl ? { sasl: c.sasl } : {}) };
  const r = c.schemaRegistry;
  const args: RegistryArgs = {
    host: c.schemaRegistryUrl,
    ...(r?.username ? { auth: { username: r.username, password: r.password ?? '' } } : {}),
    ...(r?.ca ? { agent: new HttpsAgent({ ca: r.ca, rejectUnauthorized: true }) } : {}),
  };
  return { transport: { brokers: c.brokers, clientId: c.clientId ?? 'feedbackloop-scorer', kafka }, registry: { args } };
}

export interface ChampionScorerOptions {
  transport: LogTransport;
  codecs: { snapshot: Codec<ModelSnapshot>; promotion: Codec<PromotionDecision> };
  topics?: { snapshots?: string; promotions?: string };
  model: string;
  /** Before any promotion, serve this challenger's newest snapshot (e.g. `logreg`). */
  follow?: string;
  /** Snapshots created this long before the model's newest are dropped (default 7 days; Infinity keeps all). */
  retainMs?: number;
  /** Its consumer groups are `<groupPrefix>-<model>-<unique suffix>-s|p` (default `feedbackloop-scorer`): one PREFIXED ACL covers them. */
  groupPrefix?: string;
  /** Called after each swap (for logs and tests). */
  onSwap?: (version: string, reason: string) => void;
  /**
   * Problems that do not stop the scorer: a record that does not decode (skipped), a snapshot
   * that cannot be built (the champion stays), a re-read of the snapshots topic for a dropped
   * version that fails (retried 5 s later) or does not find it.
   */
  onError?: (error: Error) => void;
}

const DEFAULT_RETAIN_MS = 7 * 86_400_000;
const REREAD_RETRY_MS = 5_000;

export interface Scored {
  /** Binary: P(positive); regression: the value; multiclass: the predicted class's probability; multilabel: the largest label probability. */
  score: number;
  version: string;
  /** Multiclass only: the classes in the model's order, their probabilities by position, and the arg-max. */
  classes?: readonly string[];
  probabilities?: number[];
  predicted_class?: string;
  /** Multilabel only (with `classes` and `probabilities`, the labels'): the labels at or above 0.5, in label order. */
  predicted_labels?: string[];
}

/** What `model` (the champion of `version`) says of `input` (see the file comment for a multiclass one). */
export function scoreWith(model: ChallengerModel, version: string, input: ModelInput): Scored {
  if (isMultilabel(model)) {
    const p = model.predictProbaOne(input);
    const labels = model.classes();
    let top = p.length > 0 ? p[0]! : Number.NaN;
    for (let l = 1; l < p.length; l++) if (p[l]! > top) top = p[l]!;
    return { score: top, version, classes: labels, probabilities: Array.from(p), predicted_labels: labels.filter((_, l) => p[l]! >= DEFAULT_LABEL_THRESHOLD) };
  }
  if (!isMulticlass(model)) return { score: model.predictOne(input), version };
  const p = model.predictProbaOne(input);
  const classes = model.classes();
  let best = 0;
  for (let c = 1; c < p.length; c++) if (p[c]! > p[best]!) best = c;
  return { score: p[best] ?? Number.NaN, version, classes, probabilities: Array.from(p), predicted_class: classes[best]! };
}

/** The champion is a version upstream built itself: score with your own model (see the file comment). */
export class OwnModelError extends FeedbackloopError {
  constructor(readonly model: string, readonly version: string, reason: string) {
    super(`the champion of model ${model} is ${version}, a version upstream serves itself (${reason}): score with your own model`, { retriable: false });
  }
}

/** A version is one of our snapshots when it reads `<model>/<challenger>@<n>`. */
const isSnapshotVersion = (model: string, version: string) => parseSnapshotVersion(version)?.model === model;
/** `<model>/<challenger>@<n>` -> [`<model>/<challenger>`, n] (another version: [itself, 0]). */
const lineOf = (version: string): [string, number] => [versionIdentity(version), parseSnapshotVersion(version)?.sequence ?? 0];

export class ChampionScorer {
  private current: { version: string; pipeline: ChallengerModel } | undefined;
  /** Set while the champion is a version upstream serves itself. */
  private own: { version: string; reason: string } | undefined;
  /** The version decisions or `follow` say to serve (its snapshot may not have arrived yet). */
  private wanted: { version: string; reason: string } | undefined;
  /** Kept snapshots, in the order read. */
  private readonly snapshots = new Map<string, ModelSnapshot>();
  /** The snapshot served before the current one (kept for a rollback). */
  private previousServed: string | undefined;
  /** Newest created_at read, and what it was at the last prune. */
  private newest = Number.NEGATIVE_INFINITY;
  private prunedAt = Number.NEGATIVE_INFINITY;
  /** Per challenger line `<model>/<challenger>`: the highest sequence number read. */
  private readonly highest = new Map<string, number>();
  /** A re-read of the topic is under way. */
  private rereading = false;
  private closed = false;
  private followSequence = 0;
  /** A promotion decision was read: `follow` no longer applies. */
  private decided = false;
  private readonly consumers: LogConsumer[] = [];
  private swaps = 0;

  private readonly retainMs: number;

  private constructor(private readonly options: ChampionScorerOptions) {
    this.retainMs = options.retainMs ?? DEFAULT_RETAIN_MS;
  }

  /** Starts reading both topics from their beginning. */
  static async start(options: ChampionScorerOptions): Promise<ChampionScorer> {
    const scorer = new ChampionScorer(options);
    const { transport } = options;
    const group = `${options.groupPrefix ?? 'feedbackloop-scorer'}-${options.model}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const snapshots = await transport.consumer({ groupId: `${group}-s`, topics: [options.topics?.snapshots ?? 'model-snapshots'], fromBeginning: true });
    await snapshots.run(async (batch) => {
      for (const record of batch.records) {
        const snapshot = await scorer.decode(record, options.codecs.snapshot);
        if (snapshot) scorer.onSnapshot(snapshot);
      }
    });
    const promotions = await transport.consumer({ groupId: `${group}-p`, topics: [options.topics?.promotions ?? 'model-promotions'], fromBeginning: true });
    await promotions.run(async (batch) => {
      for (const record of batch.records) {
        const decision = await scorer.decode(record, options.codecs.promotion);
        if (decision) scorer.onDecision(decision);
      }
    });
    scorer.consumers.push(snapshots, promotions);
    return scorer;
  }

  /** A scorer on Kafka and a schema registry (what upstream apps use), over TLS and with credentials when given. */
  static async connect(options: ScorerConnection & Omit<ChampionScorerOptions, 'transport' | 'codecs'>): Promise<ChampionScorer> {
    const { transport: transportOptions, registry: registryArgs } = scorerClients(options);
    const transport = new KafkaTransport(transportOptions);
    const registry = new SchemaRegistry(registryArgs.args);
    const snapshotsTopic = options.topics?.snapshots ?? 'model-snapshots';
    const promotionsTopic = options.topics?.promotions ?? 'model-promotions';
    const scorer = await ChampionScorer.start({
      ...options,
      transport,
      codecs: {
        snapshot: new RegistryCodec<ModelSnapshot>(registry, 'ModelSnapshot', `${snapshotsTopic}-value`),
        promotion: new RegistryCodec<PromotionDecision>(registry, 'PromotionDecision', `${promotionsTopic}-value`),
      },
    });
    scorer.ownTransport = transport;
    return scorer;
  }

  private ownTransport: LogTransport | undefined;

  /** The version served now (undefined before the first champion is known); upstream's own version when it is the champion. */
  version(): string | undefined {
    return this.own?.version ?? this.current?.version;
  }

  /** The champion now: a snapshot this scorer serves, or (own: true) a version upstream must serve itself. */
  champion(): { version: string; own: boolean } | undefined {
    if (this.own) return { version: this.own.version, own: true };
    return this.current ? { version: this.current.version, own: false } : undefined;
  }

  swapCount(): number {
    return this.swaps;
  }

  /** Scores with the current champion. Throws when there is none yet. */
  score(input: ModelInput): Scored {
    if (this.own) throw new OwnModelError(this.options.model, this.own.version, this.own.reason);
    const current = this.current;
    if (!current) {
      throw new FeedbackloopError(`no champion for model ${this.options.model} yet: no promotion decision${this.options.follow ? ` and no snapshot of ${this.options.follow}` : ''} has been read`, { retriable: true });
    }
    return scoreWith(current.pipeline, current.version, input);
  }

  /** Resolves once a champion is being served (or rejects after timeoutMs). */
  async ready(timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!this.current && !this.own) {
      if (Date.now() > deadline) throw new FeedbackloopError(`no champion for model ${this.options.model} after ${timeoutMs} ms`, { retriable: true });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.version()!;
  }

  /** Snapshots kept as text now (for tests and memory checks). */
  keptSnapshots(): number {
    return this.snapshots.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const consumer of this.consumers) await consumer.stop().catch(() => {});
    await this.ownTransport?.close();
  }

  /** A record that does not decode is skipped and reported (onError): it must not stop the scorer. */
  private async decode<T>(record: LogRecord, codec: Codec<T>): Promise<T | undefined> {
    try {
      return await codec.decode(record.value);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      this.options.onError?.(new FeedbackloopError(`skipped ${record.topic}/${record.partition}@${record.offset}: ${error.message}`));
      return undefined;
    }
  }

  private onSnapshot(snapshot: ModelSnapshot): void {
    if (snapshot.model !== this.options.model) return;
    const [line, sequence] = lineOf(snapshot.version);
    this.highest.set(line, Math.max(this.highest.get(line) ?? 0, sequence));
    // Already too old to keep (its partition is read after a newer one's): unless it is the one wanted.
    if (snapshot.created_at < this.newest - this.retainMs && this.wanted?.version !== snapshot.version) return;
    this.snapshots.set(snapshot.version, snapshot);
    if (snapshot.created_at > this.newest) {
      this.newest = snapshot.created_at;
      // A scan per 1/16 of retainMs the newest moves on: what is kept stays within 17/16 of it.
      if (this.newest - this.prunedAt >= this.retainMs / 16) this.prune();
    }
    if (!this.decided && this.options.follow !== undefined && snapshot.challenger === this.options.follow) {
      if (sequence > this.followSequence) {
        this.followSequence = sequence;
        this.want(snapshot.version, `following ${this.options.follow}`);
      }
    } else if (this.wanted?.version === snapshot.version) {
      this.swapTo(this.wanted.version, this.wanted.reason);
    }
  }

  private onDecision(decision: PromotionDecision): void {
    if (decision.model !== this.options.model) return;
    if (decision.decision !== 'PROMOTE' && decision.decision !== 'ROLLBACK') return;
    this.decided = true;
    const reason = `decision ${decision.decision} ${decision.decision_id}`;
    if (!isSnapshotVersion(this.options.model, decision.to_version)) {
      this.wanted = undefined;
      if (this.own?.version !== decision.to_version) {
        this.own = { version: decision.to_version, reason };
        this.swaps++;
        this.options.onSwap?.(decision.to_version, `${reason} (upstream's own model)`);
      }
      return;
    }
    this.want(decision.to_version, reason);
  }

  private want(version: string, reason: string): void {
    this.wanted = { version, reason };
    if (this.snapshots.has(version)) this.swapTo(version, reason);
    else if (this.dropped(version)) this.reread();
  }

  /** Not kept, and a later version of its line was read: it was dropped (or never published). */
  private dropped(version: string): boolean {
    const [line, sequence] = lineOf(version);
    return !this.snapshots.has(version) && sequence <= (this.highest.get(line) ?? 0);
  }

  /** Drops the snapshots older than retainMs before the newest, but those served now and before, and the wanted one. */
  private prune(): void {
    this.prunedAt = this.newest;
    const horizon = this.newest - this.retainMs;
    const keep = new Set([this.current?.version, this.previousServed, this.wanted?.version]);
    // All of them: partitions are read in turns, so read order is not creation order.
    for (const [version, snapshot] of this.snapshots) {
      if (snapshot.created_at < horizon && !keep.has(version)) this.snapshots.delete(version);
    }
  }

  /** Re-reads the snapshots topic for the wanted version, once at a time; retried after a failure. */
  private reread(): void {
    const version = this.wanted?.version;
    if (this.rereading || this.closed || version === undefined || !this.dropped(version)) return;
    this.rereading = true;
    const topic = this.options.topics?.snapshots ?? 'model-snapshots';
    let found: ModelSnapshot | undefined;
    const { transport, codecs } = this.options;
    const done = (async () => {
      const partitions = Array.from({ length: await transport.partitionCount(topic) }, (_, p) => p);
      await transport.readToEnd(topic, partitions, async (records) => {
        for (const record of records) {
          if (found || record.key?.toString('utf8') !== version) continue;
          const snapshot = await codecs.snapshot.decode(record.value);
          if (snapshot.version === version) found = snapshot;
        }
      });
    })();
    done.then(
      () => {
        this.rereading = false;
        if (found) this.snapshots.set(version, found);
        else this.options.onError?.(new FeedbackloopError(`snapshot ${version} of model ${this.options.model} is not on ${topic}: still serving ${this.version() ?? 'nothing'}`));
        if (this.wanted?.version === version && found) this.swapTo(version, this.wanted.reason);
        else if (this.wanted?.version !== version) this.reread();
      },
      (error: unknown) => {
        this.rereading = false;
        this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
        setTimeout(() => this.reread(), REREAD_RETRY_MS).unref();
      },
    );
  }

  private swapTo(version: string, reason: string): void {
    if (this.current?.version === version && !this.own) return;
    const snapshot = this.snapshots.get(version)!;
    // Built first, assigned in one step: a score() call sees the old model or the new one, never neither.
    let pipeline: ChallengerModel;
    try {
      pipeline = challengerFromSnapshot(JSON.parse(snapshot.parameters));
    } catch (error) {
      this.options.onError?.(new FeedbackloopError(`snapshot ${version} cannot be served (${errorMessage(error)}): still serving ${this.version() ?? 'nothing'}`));
      return;
    }
    if (this.current) this.previousServed = this.current.version;
    this.current = { version, pipeline };
    this.own = undefined;
    this.swaps++;
    this.options.onSwap?.(version, reason);
  }
}
