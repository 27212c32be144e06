/**
 * Bad-input benchmark (issue "Unbreakable": throughput with 1% bad records
 * mixed in, within 10% of a clean run).
 *
 *   npm run bench:bad-records
 *   = node --max-old-space-size=8192 --import tsx bench/bad-records.ts
 *
 * Options: --predictions N (distinct predictions of the stream, default
 * 30000, about 2.3 records each), --reps N (timed runs of each kind,
 * default 5), --bad-every N (one bad record after every N good ones,
 * default 100 = 1%), --oversized-bytes N (the oversized string, default
 * 1 MiB), --json PATH (default out/bench/bad-records.json).
 *
 * The path: the joiner as `run` builds it (runtime/pipeline.ts, wall-clock
 * time bounds, 3 partitions) on the in-process log, so every record is Avro
 * decoded, validated, joined, and dead-lettered in its batch's transaction
 * when it is bad. The good records are bench/stream.ts's mixed stream
 * (which has its own rejects, duplicates and unmatched feedback); the bad
 * run is the same records with one bad record after every 100th, cycling
 * through BAD_KINDS. Records are encoded before the clock starts; a run is
 * timed from the joiner's start until the log is idle after the final
 * watermark advance. Runs alternate clean, bad, clean, ... after one
 * untimed warm-up of each, and each has a fresh log and state.
 *
 * Throughput is on the good records (the same count in both runs):
 * good records / seconds; the ratio is median(bad) / median(clean), and
 * the median of the per-pair ratios is printed too (a pair ran close in
 * time, so it is less affected by other load on the machine).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadavg } from 'node:os';
import { buildConfig, type Config } from '../adapters/config/index.js';
import { makeCodecs, type Codecs } from '../adapters/codec/codecs.js';
import { MemoryTransport } from '../adapters/transport/memory.js';
import type { OutgoingRecord } from '../adapters/transport/transport.js';
import { ManualClock } from '../core/clock.js';
import { type Feedback, noFeedbackClasses, type Prediction } from '../core/events.js';
import { MemoryJoinStore } from '../core/join/index.js';
import { mulberry32 } from '../demo/random.js';
import { Pipeline, topicSpecs } from '../runtime/pipeline.js';
import { numberOption } from './options.js';
import { joinStream, kindOf, type StreamEvent } from './stream.js';

const PREDICTIONS = numberOption('predictions', 30_000);
const REPS = numberOption('reps', 5);
const BAD_EVERY = numberOption('bad-every', 100);
const OVERSIZED = numberOption('oversized-bytes', 2 ** 20);
/** `--kinds 1,3`: only those of BAD_KINDS (1-based), to see what one kind costs or does. */
const KINDS = ((i) => (i >= 0 ? process.argv[i + 1]!.split(',').map(Number) : undefined))(process.argv.indexOf('--kinds'));
const JSON_PATH = ((i) => (i >= 0 ? process.argv[i + 1] : undefined))(process.argv.indexOf('--json')) ?? 'out/bench/bad-records.json';

const T0 = 1_763_942_400_000;
const CONFIG: Config = buildConfig({
  joiner: { join_window: '1h', early_feedback_ttl: '10m' },
  models: { eta: { task: 'regression' } },
});
const TOPICS = CONFIG.topics;
const CODECS: Codecs = makeCodecs(TOPICS, undefined);

// ------------------------------------------------------------------ the records

/** What the good record at the insertion point gives a bad record to build on. */
interface Neighbour {
  /** The latest good prediction before the insertion point. */
  prediction: Prediction;
  /** Log and event time at the insertion point. */
  timestamp: number;
  n: number;
}

interface BadKind {
  name: string;
  /** What the pipeline is expected to do with it. */
  expect: 'dead letter' | 'unmatched' | 'duplicate';
  make(at: Neighbour): Promise<OutgoingRecord>;
}

const predictionRecord = async (p: Prediction, timestamp: number): Promise<OutgoingRecord> => ({
  topic: TOPICS.predictions, key: Buffer.from(p.prediction_id), value: await CODECS.prediction.encode(p), timestamp,
});
const feedbackRecord = async (f: Feedback, timestamp: number): Promise<OutgoingRecord> => ({
  topic: TOPICS.feedback, key: Buffer.from(f.prediction_id), value: await CODECS.feedback.encode(f), timestamp,
});
/** A fresh prediction of its own id, like the neighbour's. */
const fresh = (at: Neighbour): Prediction => ({ ...at.prediction, prediction_id: `bad-${at.n}`, timestamp: at.timestamp });
const feedbackFor = (id: string, timestamp: number): Feedback => ({
  prediction_id: id, timestamp, feedback_type: 'USER_CONFIRMED', label: 1, uncertain: false, source: 'bench', notes: null,
  ...noFeedbackClasses(),
});

const ALL_KINDS: BadKind[] = [
  {
    name: 'undecodable: JSON bytes on the Avro topic',
    expect: 'dead letter',
    make: async (at) => ({ topic: TOPICS.predictions, key: Buffer.from(`bad-${at.n}`), value: Buffer.from(JSON.stringify(fresh(at))), timestamp: at.timestamp }),
  },
  {
    name: 'undecodable: Avro truncated to half',
    expect: 'dead letter',
    make: async (at) => {
      const record = await predictionRecord(fresh(at), at.timestamp);
      return { ...record, value: record.value!.subarray(0, record.value!.length >> 1) };
    },
  },
  {
    name: 'validation: NaN feature',
    expect: 'dead letter',
    make: (at) => predictionRecord({ ...fresh(at), features: { ...at.prediction.features, amount: Number.NaN } }, at.timestamp),
  },
  {
    name: 'validation: missing (empty) prediction_id',
    expect: 'dead letter',
    make: (at) => feedbackRecord(feedbackFor('', at.timestamp), at.timestamp),
  },
  {
    name: 'time: timestamp in microseconds (far future)',
    expect: 'dead letter',
    make: (at) => predictionRecord({ ...fresh(at), timestamp: at.timestamp * 1000 }, at.timestamp),
  },
  {
    name: 'time: timestamp in seconds (1970)',
    expect: 'dead letter',
    make: (at) => feedbackRecord(feedbackFor(at.prediction.prediction_id, Math.floor(at.timestamp / 1000)), at.timestamp),
  },
  {
    name: 'duplicate id: a reused prediction_id, other content',
    expect: 'dead letter',
    // Stamped no earlier than the original: in event-time order it comes second, and it is the one refused.
    make: (at) => predictionRecord({ ...at.prediction, model_version: 'other', timestamp: Math.max(at.timestamp, at.prediction.timestamp) }, at.timestamp),
  },
  {
    name: 'duplicate id: an exact duplicate prediction',
    expect: 'duplicate',
    make: (at) => predictionRecord(at.prediction, at.timestamp),
  },
  {
    name: 'feedback for an unknown prediction',
    expect: 'unmatched',
    make: (at) => feedbackRecord(feedbackFor(`unknown-${at.n}`, at.timestamp), at.timestamp),
  },
  {
    name: 'oversized string (a categorical value past limits.max_name_length)',
    expect: 'dead letter',
    make: (at) => predictionRecord({ ...fresh(at), categorical: { note: 'x'.repeat(OVERSIZED) } }, at.timestamp),
  },
];

const BAD_KINDS = KINDS ? ALL_KINDS.filter((_, i) => KINDS.includes(i + 1)) : ALL_KINDS;

/** The good records, in arrival order (encoded once: the producers' work, not timed). */
async function goodRecords(events: StreamEvent[]): Promise<OutgoingRecord[]> {
  const out: OutgoingRecord[] = [];
  for (const e of events) {
    out.push(e.kind === 'prediction' ? await predictionRecord(e.event, e.event.timestamp) : await feedbackRecord(e.event, e.event.timestamp));
  }
  return out;
}

/**
 * A prediction the joiner accepts the first time (not one of the stream's own
 * rejects: a binary score out of range, or a reused id): the duplicate-id kinds
 * copy it, and must be the only thing wrong with their record.
 */
function plain(p: Prediction, uses: Map<string, number>): boolean {
  return uses.get(p.prediction_id) === 1 && (kindOf(p.model) === 'regression' || p.score <= 1);
}

/** How many prediction events carry each id (exact duplicates and reused ids count). */
function idUses(events: StreamEvent[]): Map<string, number> {
  const uses = new Map<string, number>();
  for (const e of events) if (e.kind === 'prediction') uses.set(e.event.prediction_id, (uses.get(e.event.prediction_id) ?? 0) + 1);
  return uses;
}

/** The good records with one bad record after every BAD_EVERY-th, cycling through the kinds (shuffled by a seeded draw). */
async function withBad(events: StreamEvent[], good: OutgoingRecord[]): Promise<{ records: OutgoingRecord[]; kinds: Map<string, number> }> {
  const rng = mulberry32(99);
  const records: OutgoingRecord[] = [];
  const kinds = new Map<string, number>(BAD_KINDS.map((k) => [k.name, 0]));
  let latest: Prediction | undefined;
  const uses = idUses(events);
  for (let i = 0; i < good.length; i++) {
    records.push(good[i]!);
    const e = events[i]!;
    if (e.kind === 'prediction' && plain(e.event, uses)) latest = e.event;
    if ((i + 1) % BAD_EVERY !== 0 || !latest) continue;
    const kind = BAD_KINDS[Math.floor(rng() * BAD_KINDS.length)]!;
    records.push(await kind.make({ prediction: latest, timestamp: good[i]!.timestamp!, n: i }));
    kinds.set(kind.name, kinds.get(kind.name)! + 1);
  }
  return { records, kinds };
}

// ------------------------------------------------------------------ one run

interface Run {
  seconds: number;
  deadLetters: number;
  unmatched: number;
  duplicates: number;
  examples: number;
  /** Dead letters by error class (counted after the clock stops). */
  letterClasses: Map<string, number>;
  /** `example_id=label` of the good predictions' examples, sorted: to compare the clean and bad runs' outputs. */
  goodExamples?: string[];
}

/** The joiner of `run` over a fresh in-process log holding `records`; timed from start until idle after the final advance. */
async function runOnce(records: OutgoingRecord[], end: number, inspect: boolean): Promise<Run> {
  const log = new MemoryTransport();
  await log.ensureTopics(topicSpecs(CONFIG));
  await (await log.producer()).send(records);
  const pipeline = new Pipeline(
    {
      config: CONFIG, transport: log, codecs: CODECS, clock: new ManualClock(end), name: 'bench', time: 'wall-clock',
      joinStore: () => new MemoryJoinStore(),
      deadLetters: { connect: async () => {}, writeBatch: async () => {}, close: async () => {} },
      observer: {},
    },
    ['joiner'],
  );
  const joiner = pipeline.get('joiner')!;
  const t0 = process.hrtime.bigint();
  await pipeline.start();
  await log.whenIdle();
  await joiner.advanceTasks(end);
  await log.whenIdle();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await pipeline.stop(() => log.whenIdle());
  const run: Run = {
    seconds,
    deadLetters: log.records(TOPICS.dead_letters).length,
    unmatched: log.records(TOPICS.unmatched_feedback).length,
    duplicates: joiner.totals.duplicates,
    examples: log.records(TOPICS.labelled_examples).length,
    letterClasses: inspect ? await letterClasses(log) : new Map(),
    ...(inspect ? { goodExamples: await goodExamples(log) } : {}),
  };
  await log.close();
  return run;
}

async function letterClasses(log: MemoryTransport): Promise<Map<string, number>> {
  const classes = new Map<string, number>();
  for (const record of log.records(TOPICS.dead_letters)) {
    const letter = await CODECS.deadLetter.decode(record.value);
    classes.set(letter.error_class, (classes.get(letter.error_class) ?? 0) + 1);
  }
  return classes;
}

async function goodExamples(log: MemoryTransport): Promise<string[]> {
  const out: string[] = [];
  for (const record of log.records(TOPICS.labelled_examples)) {
    const example = await CODECS.labelled.decode(record.value);
    if (!example.prediction_id.startsWith('bad-')) out.push(`${example.example_id}=${example.label}`);
  }
  return out.sort();
}

// ------------------------------------------------------------------ main

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const log = (line: string) => process.stderr.write(`  ${line}\n`);

async function main(): Promise<void> {
  const events = [...joinStream({ predictions: PREDICTIONS, seed: 42, meanGapMs: 100, joinWindowMs: 3_600_000, earlyFeedbackTtlMs: 600_000, startMs: T0 })];
  const good = await goodRecords(events);
  const bad = await withBad(events, good);
  const badCount = bad.records.length - good.length;
  let end = Number.NEGATIVE_INFINITY;
  for (const e of events) if (e.event.timestamp > end) end = e.event.timestamp;
  log(`${fmt(good.length)} good records, ${fmt(badCount)} bad mixed in (${((100 * badCount) / good.length).toFixed(2)}%)`);

  // Warm-up (JIT), and the outputs of each kind of run, compared after the timed runs.
  const cleanOut = await runOnce(good, end, true);
  const badOut = await runOnce(bad.records, end, true);
  const clean: number[] = [];
  const dirty: number[] = [];
  for (let r = 0; r < REPS; r++) {
    clean.push((await runOnce(good, end, false)).seconds);
    dirty.push((await runOnce(bad.records, end, false)).seconds);
    log(`rep ${r + 1}/${REPS}: clean ${clean[r]!.toFixed(2)} s, bad ${dirty[r]!.toFixed(2)} s`);
  }
  report({ good: good.length, badCount, kinds: bad.kinds, clean, dirty, cleanOut, badOut });
}

interface Results {
  good: number;
  badCount: number;
  kinds: Map<string, number>;
  clean: number[];
  dirty: number[];
  cleanOut: Run;
  badOut: Run;
}

/** Items in one list and not the other (example_id=label of the good predictions). */
function differing(a: string[], b: string[]): number {
  const inA = new Set(a);
  const inB = new Set(b);
  let n = 0;
  for (const x of inA) if (!inB.has(x)) n++;
  for (const x of inB) if (!inA.has(x)) n++;
  return n;
}

/** What the bad records did to the outputs, against the clean run (the stream has rejects, duplicates and unmatched feedback of its own). */
function outcomeOf(r: Results) {
  const expected = (what: BadKind['expect']) => BAD_KINDS.filter((k) => k.expect === what).reduce((sum, k) => sum + r.kinds.get(k.name)!, 0);
  const added = (of: (run: Run) => number) => ({ clean: of(r.cleanOut), bad: of(r.badOut), added: of(r.badOut) - of(r.cleanOut) });
  return {
    dead_letters: { ...added((run) => run.deadLetters), expected: expected('dead letter') },
    unmatched: { ...added((run) => run.unmatched), expected: expected('unmatched') },
    duplicates: { ...added((run) => run.duplicates), expected: expected('duplicate') },
    labelled_examples: { ...added((run) => run.examples), expected: 0 },
    good_examples: r.cleanOut.goodExamples!.length,
    good_examples_differing: differing(r.cleanOut.goodExamples!, r.badOut.goodExamples!),
    dead_letter_classes_bad_run: Object.fromEntries(r.badOut.letterClasses),
    dead_letter_classes_clean_run: Object.fromEntries(r.cleanOut.letterClasses),
  };
}

function summaryOf(r: Results) {
  const rate = (seconds: number) => r.good / seconds;
  const cleanRate = median(r.clean.map(rate));
  const badRate = median(r.dirty.map(rate));
  const pairRatios = r.clean.map((c, i) => c / r.dirty[i]!);
  return {
    bench: 'bad-records',
    command: `node ${process.execArgv.join(' ')} ${process.argv.slice(1).map((a) => a.replace(`${process.cwd()}/`, '')).join(' ')}`,
    node: process.version,
    at: new Date().toISOString(),
    load_average: loadavg(),
    path: 'joiner processor as run builds it, on the in-process log (3 partitions, Avro, wall-clock time bounds)',
    options: { predictions: PREDICTIONS, reps: REPS, bad_every: BAD_EVERY, oversized_bytes: OVERSIZED, kinds: KINDS ?? 'all' },
    good_records: r.good,
    bad_records: r.badCount,
    bad_by_kind: BAD_KINDS.map((k) => ({ kind: k.name, expect: k.expect, count: r.kinds.get(k.name)! })),
    clean: { seconds: r.clean, median_good_records_per_s: cleanRate },
    bad: { seconds: r.dirty, median_good_records_per_s: badRate },
    ratio_of_medians: badRate / cleanRate,
    pair_ratios: pairRatios,
    median_pair_ratio: median(pairRatios),
    outcome: outcomeOf(r),
  };
}

function report(r: Results): void {
  const summary = summaryOf(r);
  mkdirSync(dirname(JSON_PATH), { recursive: true });
  writeFileSync(JSON_PATH, `${JSON.stringify(summary, null, 2)}\n`);
  print(summary);
}

function print(s: ReturnType<typeof summaryOf>): void {
  const o = s.outcome;
  console.log('');
  console.log(`feedbackloop bad-records benchmark — node ${process.version}, ${process.platform}/${process.arch}, load ${s.load_average.map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`command: ${s.command}`);
  console.log(`${fmt(s.good_records)} good records + ${fmt(s.bad_records)} bad; ${REPS} timed runs of each, alternating`);
  console.log('');
  for (const k of s.bad_by_kind) console.log(`  ${String(k.count).padStart(5)}  ${k.kind.padEnd(52)} -> ${k.expect}`);
  console.log('');
  console.log(`clean: median ${fmt(s.clean.median_good_records_per_s)} good records/s`);
  console.log(`bad:   median ${fmt(s.bad.median_good_records_per_s)} good records/s`);
  console.log(`ratio bad/clean: ${s.ratio_of_medians.toFixed(3)} (of the medians), ${s.median_pair_ratio.toFixed(3)} (median of the ${REPS} pairs)`);
  console.log('');
  console.log(`dead letters: ${fmt(o.dead_letters.bad)} in the bad run, ${fmt(o.dead_letters.clean)} in the clean run (the stream's own rejects): ${fmt(o.dead_letters.added)} added; bad records meant to be dead-lettered: ${fmt(o.dead_letters.expected)}`);
  console.log(`unmatched feedback added: ${fmt(o.unmatched.added)} (expected ${fmt(o.unmatched.expected)}); duplicates ignored added: ${fmt(o.duplicates.added)} (expected ${fmt(o.duplicates.expected)})`);
  console.log(`labelled examples added: ${fmt(o.labelled_examples.added)} (expected 0: every bad record is dead-lettered, unmatched or a duplicate)`);
  console.log(`good predictions' examples (example_id=label) in one run and not the other: ${fmt(o.good_examples_differing)} of ${fmt(o.good_examples)}`);
  console.log(`JSON: ${JSON_PATH}`);
}

await main();
