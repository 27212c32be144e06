/**
 * The replay's output files, written as the replay goes (runtime/replay.ts):
 * after each input chunk, `drain` reads what the processors added to the
 * in-process log since the last drain (labelled examples, unmatched
 * feedback, dead letters) and what the learner and the promoter published,
 * so the log can free it (`readers`: where the drain stands) and nothing
 * piles up in memory. `finish` writes the files. Arrival records
 * (joiner.emit_arrivals) go to neither labelled.jsonl nor unlabelled.jsonl:
 * they are the predictions, which the input holds already.
 *
 * Order, as when the files were made from the whole log at the end:
 * labelled.jsonl, unlabelled.jsonl and unmatched.jsonl in processing order
 * (by the record's timestamp, the input event time that caused it, then
 * offset: an ExternalSorter, bounded); dead_letters.jsonl the input files'
 * letters (each in line order), then those of the evaluator and the
 * registry as they came, then the processors' from the dead-letter topic.
 */
import { isLabelled } from '../core/contracts/labelled.js';
import type { ModelKind } from '../core/events.js';
import { join } from 'node:path';
import type { Config } from '../adapters/config/index.js';
import type { Codecs } from '../adapters/codec/codecs.js';
import type { MemoryTransport } from '../adapters/transport/memory.js';
import type { LogRecord, TopicPartitionOffset } from '../adapters/transport/transport.js';
import type { DeadLetter, LabelledExample, ModelSnapshot, PromotionDecision } from '../core/events.js';
import type { Sink } from '../sinks/sink.js';
import { modelFromSnapshot, standardisedCoefficients, type Importance } from '../core/models/index.js';
import type { ReportSnapshot } from '../report/index.js';
import { ExternalSorter } from './external-sort.js';
import { JsonlWriter } from '../sinks/jsonl-writer.js';
import { letterLine } from './replay-input.js';

/** The standardised coefficients of a snapshot's model (core/models/importance.ts); null when it has none or cannot be read. */
function importanceOf(s: ModelSnapshot): Importance[] | null {
  try {
    return standardisedCoefficients(modelFromSnapshot(JSON.parse(s.parameters)));
  } catch {
    return null;
  }
}

/** A snapshot as a snapshots.jsonl line: everything but the parameters, which are large; its largest standardised coefficients instead. */
function snapshotLine(s: ModelSnapshot) {
  return {
    model: s.model, version: s.version, challenger: s.challenger, algorithm: s.algorithm, training_count: s.training_count,
    data_hash: s.data_hash, parent_version: s.parent_version, created_at: s.created_at, features: s.feature_schema.map((f) => f.name),
    importance: importanceOf(s),
  };
}

/** Snapshot lines kept per challenger for the report: past it, every other one is dropped (evenly spread over the run). */
export const REPORT_SNAPSHOTS = 128;

/** A decision as a promotions.jsonl line (the evidence in full is on the model-promotions topic). */
export function promotionLine(d: PromotionDecision) {
  return {
    model: d.model, decision: d.decision.toLowerCase(), from_version: d.from_version, to_version: d.to_version, at: d.at, n: d.sample_size,
    statistic: d.statistic, bound: d.bound, alpha: d.alpha, metric_deltas: d.metric_deltas, guardrails: d.guardrails, reason: d.reason,
  };
}

/** Where the processors' publications are taken from. */
export interface Publishers {
  learner: { takePublished(): ModelSnapshot[] };
  promoter: { takePublished(): PromotionDecision[] };
}

export class ReplayOutputs {
  private readonly labelled: ExternalSorter;
  private readonly unlabelled: ExternalSorter;
  private readonly unmatched: ExternalSorter;
  /** The input files' dead letters, keyed by line. */
  readonly inputLetters: { predictions: ExternalSorter; feedback: ExternalSorter };
  private readonly sinkLetters: JsonlWriter;
  private readonly topicLetters: JsonlWriter;
  private readonly snapshots: JsonlWriter;
  private readonly promotions: JsonlWriter;
  /** Next offset to read, per topic and partition. */
  private readonly next = new Map<string, number>();
  /** The decisions, as promotions.jsonl has them (for the report: one per decision, not per example). */
  readonly decisions: Array<ReturnType<typeof promotionLine>> = [];
  snapshotsPublished = 0;
  /** Per model and challenger, snapshot lines evenly spread over the run (at most REPORT_SNAPSHOTS each), for the report. */
  private readonly kept = new Map<string, { stride: number; seen: number; lines: ReportSnapshot[]; last: ReportSnapshot | null }>();

  constructor(
    private readonly out: string,
    tmp: string,
    private readonly log: MemoryTransport,
    private readonly topics: Config['topics'],
    private readonly codecs: Codecs,
    /** The task of each model (models.<name>.task): what counts as labelled. */
    private readonly kindOf: (model: string) => ModelKind,
  ) {
    const sorter = (name: string) => new ExternalSorter(tmp, name);
    this.labelled = sorter('labelled');
    this.unlabelled = sorter('unlabelled');
    this.unmatched = sorter('unmatched');
    this.inputLetters = { predictions: sorter('letters-predictions'), feedback: sorter('letters-feedback') };
    this.sinkLetters = new JsonlWriter(join(tmp, 'letters-sinks'));
    this.topicLetters = new JsonlWriter(join(tmp, 'letters-topic'));
    this.snapshots = new JsonlWriter(this.paths.snapshots);
    this.promotions = new JsonlWriter(this.paths.promotions);
  }

  get paths() {
    const at = (name: string) => join(this.out, name);
    return {
      labelled: at('labelled.jsonl'), unlabelled: at('unlabelled.jsonl'), unmatched: at('unmatched.jsonl'), dead_letters: at('dead_letters.jsonl'),
      snapshots: at('snapshots.jsonl'), promotions: at('promotions.jsonl'),
    };
  }

  /** The evaluator's and the registry's dead letters (they write to a sink, not to the dead-letter topic). */
  letterSink(): Sink<DeadLetter> {
    return { connect: async () => {}, writeBatch: async (letters) => { for (const l of letters) await this.sinkLetters.line(letterLine(l)); }, close: async () => {} };
  }

  /** Where the drain stands in each topic it reads, for MemoryTransport.release. */
  readers(): TopicPartitionOffset[] {
    return [...this.next].map(([key, offset]) => {
      const [topic, partition] = key.split('\u0000') as [string, string];
      return { topic, partition: Number(partition), offset };
    });
  }

  /** Takes what was added since the last drain. */
  async drain(publishers: Publishers): Promise<void> {
    for (const record of this.unread(this.topics.labelled_examples)) {
      // The joiner's example beside the bytes (keepDecoded): what the decode would give back (processors/decode.ts).
      const example = (record.decoded as LabelledExample | undefined) ?? (await this.codecs.labelled.decode(record.value));
      if (example.arrival) continue; // an arrival record (joiner.emit_arrivals): a prediction, not a label nor an expiry
      await (isLabelled(example, this.kindOf(example.model)) ? this.labelled : this.unlabelled).add([record.timestamp, record.offset], JSON.stringify(example));
    }
    for (const record of this.unread(this.topics.unmatched_feedback)) {
      const line = JSON.stringify({ ...(await this.codecs.feedback.decode(record.value)), reason: record.headers.reason ?? null });
      await this.unmatched.add([record.timestamp, record.offset], line);
    }
    for (const record of this.unread(this.topics.dead_letters)) await this.topicLetters.line(letterLine(await this.origin(record)));
    for (const s of publishers.learner.takePublished()) {
      this.snapshotsPublished++;
      const line = snapshotLine(s);
      this.keep(line);
      await this.snapshots.row(line);
    }
    for (const d of publishers.promoter.takePublished()) {
      this.decisions.push(promotionLine(d));
      await this.promotions.row(promotionLine(d));
    }
  }

  /** Keeps every stride-th snapshot of its challenger; when REPORT_SNAPSHOTS are kept, every other one goes and the stride doubles. */
  private keep(line: ReportSnapshot): void {
    const key = `${line.model}\u0000${line.challenger}`;
    let kept = this.kept.get(key);
    if (!kept) this.kept.set(key, (kept = { stride: 1, seen: 0, lines: [], last: null }));
    kept.last = line;
    if (kept.seen++ % kept.stride !== 0) return;
    kept.lines.push(line);
    if (kept.lines.length < REPORT_SNAPSHOTS) return;
    kept.lines = kept.lines.filter((_, i) => i % 2 === 0);
    kept.stride *= 2;
  }

  /** The snapshots kept for the report, per challenger in the order published, its latest last. */
  reportSnapshots(): ReportSnapshot[] {
    const out: ReportSnapshot[] = [];
    for (const kept of this.kept.values()) {
      for (const line of kept.lines) out.push(line);
      if (kept.last && kept.lines[kept.lines.length - 1] !== kept.last) out.push(kept.last);
    }
    return out;
  }

  /** Writes the files; returns the number of dead letters. */
  async finish(): Promise<number> {
    const p = this.paths;
    for (const [sorter, path] of [[this.labelled, p.labelled], [this.unlabelled, p.unlabelled], [this.unmatched, p.unmatched]] as const) {
      const file = new JsonlWriter(path);
      await sorter.writeTo(file);
      await file.close();
    }
    for (const w of [this.sinkLetters, this.topicLetters, this.snapshots, this.promotions]) await w.close();
    const letters = new JsonlWriter(p.dead_letters);
    await this.inputLetters.predictions.writeTo(letters);
    await this.inputLetters.feedback.writeTo(letters);
    await letters.append(this.sinkLetters.path);
    await letters.append(this.topicLetters.path);
    await letters.close();
    return letters.lines + this.sinkLetters.lines + this.topicLetters.lines;
  }

  /** The records of a topic not read yet (every partition), moving the drain past them. */
  private unread(topic: string): LogRecord[] {
    const out: LogRecord[] = [];
    const partitions = this.log.topic(topic).partitions.length;
    for (let partition = 0; partition < partitions; partition++) {
      const key = `${topic}\u0000${partition}`;
      const records = this.log.readFrom(topic, partition, this.next.get(key) ?? 0);
      for (const r of records) out.push(r);
      this.next.set(key, this.log.endOffset(topic, partition));
    }
    return out;
  }

  /** A processor's dead letter points at an in-process record: name the file line that record came from. */
  private async origin(record: LogRecord): Promise<DeadLetter> {
    const letter = await this.codecs.deadLetter.decode(record.value);
    const inputs = [this.topics.predictions, this.topics.feedback];
    // One partition per topic: the offset indexes the topic's records (still retained: the drain runs before a release).
    const source = letter.partition === 0 && inputs.includes(letter.topic) ? this.log.recordAt(letter.topic, 0, letter.offset) : undefined;
    return source?.headers.file ? { ...letter, topic: source.headers.file, partition: 0, offset: Number(source.headers.line) } : letter;
  }
}
