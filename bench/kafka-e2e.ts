/**
 * End to end through Kafka (issue 13): `feedbackloop run` with every
 * processor (joiner, learner, promoter, evaluator, archive, registry;
 * ClickHouse on) against the real stack (scripts/stack/start.sh: Kafka on
 * 127.0.0.1:9092, the schema registry, ClickHouse), in two phases:
 *
 * 1. Backlog drain. bench/replay-stream.ts's stream (one binary model, 85%
 *    of predictions labelled 10 min–4 days later, 7% corrected by an expert),
 *    its timestamps shifted so that its last event is 2 minutes ago, is
 *    produced (Avro through the registry) into fresh input topics before
 *    `run` starts. Then `node dist/cli/main.js run` starts and every consumer
 *    group `<client_id>-<processor>` is polled (kafkajs admin: committed
 *    offsets against end offsets) every 250 ms until all are at lag 0 on two
 *    polls in a row. A group's time is the first poll from which it stayed
 *    at 0. Events/s = input events (predictions + feedback) / seconds from
 *    `run`'s "feedbackloop running" line.
 * 2. Latency at a fixed rate. With `run` caught up, predictions of the
 *    stream's model are produced at --rate events/s (predictions and
 *    feedback together; each prediction's feedback --feedback-delay ms after
 *    it, stamped with the wall clock) for --latency-seconds. Every
 *    --sample-th prediction is a probe of a model of its own
 *    (`bench-probe`); for each probe, the time from the send of its feedback
 *    to (a) `feedbackloop_model_metric{model="bench-probe",role="champion",
 *    segment="*",window="total",metric="count"}` on run's /metrics reaching
 *    the probe's ordinal (polled every 50 ms; the probes of one model share
 *    a labelled-examples partition, so they are evaluated in order) and
 *    (b) its row in ClickHouse's `labelled_examples` (polled every 100 ms
 *    by prediction_id). The rate actually reached is reported.
 *
 *   npm run build && npm run bench:kafka-e2e -- [options]
 *
 * Options: --predictions N (backlog, default 100000), --rate N (events/s
 * in phase 2, default 1000), --latency-seconds N (default 60; 0 skips phase
 * 2), --sample N (one probe per N predictions, default 100),
 * --feedback-delay N (ms, default 100), --flush-interval S (the evaluator's
 * flush_interval in seconds, default 1; `run`'s default is 5),
 * --snapshot-interval S (learner.snapshot_interval in seconds, default 2;
 * `run`'s default is 30: the learner commits its input only with its
 * snapshots, so its last partial batch would wait that long), --partitions N
 * (default 3), --cpu-prof DIR (run `run` under node --cpu-prof and print its
 * top self-time functions), --keep (leave the topics, the ClickHouse
 * database and the state folder), --json PATH (default out/bench/kafka-e2e.json),
 * --only P (repeatable: run only these processors, e.g. `--only joiner` for the
 * joiner group's drain rate alone; ClickHouse is then needed only with the
 * archive or the evaluator, and phase 2 only runs with the evaluator),
 * --cli PATH (the CLI to run instead of dist/cli/main.js: a copy of another
 * build, for before/after runs), --split G1/G2/... (the processors in several
 * `run` processes, one per group, each a comma list, e.g.
 * `--split joiner/learner,promoter,evaluator,archive,registry`: `run --only`
 * as a deployment would spread them over cores; together they must be the
 * processors run; the drain is timed from the last process's start),
 * --instances N (each process N times: one client id, so N members of each
 * group, each with its own joiner state folder; the processes are started
 * together and the drain timed from the last one's start; with it every
 * process runs evaluator.shard_by: prediction, so one model's evaluation
 * spreads over the instances: rolling_size 0, drift_reference_size 0,
 * drift_detectors false and no fairness attributes, as shard_by needs;
 * `--shard-by model|prediction` sets it either way), --models 1 (the config
 * names the stream's one model only: no probe model, so no phase 2),
 * --prejoin (before the processes start, one `run --only joiner` drains the
 * backlog into labelled examples and stops: the drain then times only the
 * processors run, e.g. `--only evaluator --instances 2 --prejoin --models 1
 * --partitions 4` for the examples/s N evaluators take of one hot model).
 * Printed with the drain: each `run` process's CPU seconds (from /proc) to
 * lag 0, the evaluator's seconds applying batches and flushing (from each
 * drain to its commit; the write and commit run in the background, so these
 * overlap the batches: consumption waits only for the drain, and for a write
 * still in flight when the next flush is due), the partitions each member held,
 * and a group's sustained rate from its first commit to lag 0 (without its
 * join). The evaluator's records are its input's (a rebalance may make the
 * examples-evaluated counter count some twice).
 *
 * Everything is named for the run (topics, client id, ClickHouse database,
 * state folder) and removed at the end. The stack is shared: the load average
 * before and after is printed with the figures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { logLevel, type Admin } from 'kafkajs';
import { KafkaTransport } from '../adapters/kafka/transport.js';
import type { LogProducer, OutgoingRecord } from '../adapters/transport/transport.js';
import { type Feedback, noFeedbackClasses, noPredictionClasses, type Prediction } from '../core/events.js';
import { gaussian, mulberry32 } from '../demo/random.js';
import { uniqueName } from '../test/support/collect.js';
import { CLI, joinerEnvironment, pipelineTopics, removeStateDir, STATE_DIR, type PipelineTopics } from '../test/support/joiner-process.js';
import { groupAssignments, joinerCodecs, pipelineTopicSpecs, type JoinerCodecs } from '../test/support/joiner-kafka.js';
import { requireStack, STACK } from '../test/support/stack.js';
import { numberOption } from './options.js';
import { MODEL, writeReplayStream } from './replay-stream.js';

const PROBE_MODEL = 'bench-probe';
const PROCESSORS = ['joiner', 'learner', 'promoter', 'evaluator', 'archive', 'registry'] as const;
const ROOT = join(import.meta.dirname, '..');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const argValue = (name: string) => ((i) => (i >= 0 ? process.argv[i + 1] : undefined))(process.argv.indexOf(`--${name}`));

const o = {
  predictions: numberOption('predictions', 100_000),
  rate: numberOption('rate', 1_000),
  latencySeconds: numberOption('latency-seconds', 60),
  sample: numberOption('sample', 100),
  feedbackDelayMs: numberOption('feedback-delay', 100),
  flushInterval: numberOption('flush-interval', 1),
  snapshotInterval: numberOption('snapshot-interval', 2),
  partitions: numberOption('partitions', 3),
  drainTimeoutSeconds: numberOption('drain-timeout', 900),
  cpuProf: argValue('cpu-prof'),
  /** The processors to run (repeatable; default all of PROCESSORS), e.g. `--only joiner` for the joiner group's drain rate alone. */
  only: process.argv.flatMap((a, i) => (a === '--only' && process.argv[i + 1] ? [process.argv[i + 1]!] : [])),
  /** The CLI to run (default dist/cli/main.js): a copy of another build, for A/B runs. */
  cli: argValue('cli') ?? CLI,
  /** The processors spread over several `run` processes: groups split by '/', processors by ','. */
  split: argValue('split'),
  /** Each process this many times (one client id: N members of each group). */
  instances: numberOption('instances', 1),
  /** evaluator.shard_by for every process (default prediction with --instances, else model). */
  shardBy: argValue('shard-by') ?? (process.argv.includes('--instances') ? 'prediction' : 'model'),
  /** 1: the config names the stream's model only (no probe model, no phase 2). */
  models: numberOption('models', 2),
  /** A `run --only joiner` drains the backlog before the processes start (they then should not include the joiner). */
  prejoin: process.argv.includes('--prejoin'),
  keep: process.argv.includes('--keep'),
  json: argValue('json') ?? 'out/bench/kafka-e2e.json',
};

const load = () => loadavg().map((v) => Math.round(v * 100) / 100);

// ---------------------------------------------------------------------------
// The `run` child

class RunProcess {
  port = 0;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<void>;
  private readonly warnings = new Map<string, number>();
  private readonly tailLines: string[] = [];
  private partial = '';

  constructor(
    private readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    const log: WriteStream = createWriteStream(logFile);
    const onData = (chunk: Buffer) => {
      log.write(chunk);
      const parts = (this.partial + chunk.toString('utf8')).split('\n');
      this.partial = parts.pop() ?? '';
      for (const line of parts) {
        if (this.port === 0 && line.includes('"feedbackloop running"')) this.port = (JSON.parse(line) as { port: number }).port;
        if (/"level":(40|50|60)/.test(line)) {
          let key = line.slice(0, 200);
          try {
            const parsed = JSON.parse(line) as { level: number; msg?: string; error?: string };
            key = `${parsed.level >= 50 ? 'error' : 'warn'}: ${parsed.msg ?? ''}${parsed.error ? `: ${String(parsed.error).slice(0, 160)}` : ''}`;
          } catch {
            // counted as the raw line
          }
          this.warnings.set(key, (this.warnings.get(key) ?? 0) + 1);
        }
        this.tailLines.push(line);
        if (this.tailLines.length > 40) this.tailLines.shift();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        log.end();
        resolve();
      });
    });
  }

  static start(env: Record<string, string>, config: string, logFile: string, nodeFlags: string[], processors: readonly string[]): RunProcess {
    const args = [...nodeFlags, o.cli, 'run', '--config', config, '--only', ...processors];
    return new RunProcess(spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }), logFile);
  }

  async running(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.port === 0) {
      this.check();
      if (Date.now() > deadline) throw new Error(`run was not running after ${timeoutMs} ms; log ${this.logFile}:\n${this.tail()}`);
      await sleep(20);
    }
  }

  check(): void {
    if (this.exit) throw new Error(`run exited (${JSON.stringify(this.exit)}); log ${this.logFile}:\n${this.tail()}`);
  }

  tail(): string {
    return this.tailLines.join('\n');
  }

  /** CPU seconds (user + system) the process has used so far, from /proc (Linux; null elsewhere). */
  cpuSeconds(): number | null {
    try {
      const fields = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
      // utime and stime are fields 14 and 15 of stat (11 and 12 after the state), in clock ticks (100 a second on Linux).
      return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      return null;
    }
  }

  problems(): Record<string, number> {
    return Object.fromEntries(this.warnings);
  }

  async stop(timeoutMs = 60_000): Promise<void> {
    if (this.exit) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------
// Lag

interface Group {
  processor: string;
  groupId: string;
  topics: string[];
}

function groupsOf(prefix: string, topics: PipelineTopics, processors: ReadonlyArray<(typeof PROCESSORS)[number]>, evaluatorInput: string): Group[] {
  const inputs: Record<(typeof PROCESSORS)[number], string[]> = {
    joiner: [topics.predictions, topics.feedback],
    learner: [topics.labelled],
    promoter: [topics.labelled],
    evaluator: [evaluatorInput],
    archive: [topics.predictions],
    registry: [topics.snapshots, topics.promotions],
  };
  return processors.map((processor) => ({ processor, groupId: `${prefix}-${processor}`, topics: inputs[processor] }));
}

/** Each group's lag (end offset minus committed offset, summed over its inputs' partitions; nothing committed = the whole partition). */
async function lags(admin: Admin, groups: Group[]): Promise<Record<string, number>> {
  const ends = new Map<string, number>();
  const committed = await Promise.all(groups.map((g) => admin.fetchOffsets({ groupId: g.groupId, topics: g.topics })));
  for (const topic of new Set(groups.flatMap((g) => g.topics))) {
    for (const p of await admin.fetchTopicOffsets(topic)) ends.set(`${topic}/${p.partition}`, Number(p.high));
  }
  const out: Record<string, number> = {};
  groups.forEach((g, i) => {
    const at = new Map<string, number>();
    for (const t of committed[i]!) for (const p of t.partitions) at.set(`${t.topic}/${p.partition}`, Math.max(0, Number(p.offset)));
    let lag = 0;
    for (const [tp, end] of ends) if (g.topics.includes(tp.slice(0, tp.lastIndexOf('/')))) lag += Math.max(0, end - (at.get(tp) ?? 0));
    out[g.processor] = lag;
  });
  return out;
}

interface LagSample {
  t: number;
  lag: Record<string, number>;
}

/**
 * Polls every group's lag until all are 0 on two polls in a row; returns
 * the samples (t: seconds since `from`) and, per group, the first poll from
 * which it stayed at 0.
 */
async function waitAllCaughtUp(admin: Admin, groups: Group[], from: number, timeoutMs: number, check: () => void): Promise<{ samples: LagSample[]; caughtUp: Record<string, number>; seconds: number }> {
  const samples: LagSample[] = [];
  let zeroPolls = 0;
  for (;;) {
    check();
    const lag = await lags(admin, groups);
    const t = (Date.now() - from) / 1000;
    samples.push({ t, lag });
    zeroPolls = Object.values(lag).every((v) => v === 0) ? zeroPolls + 1 : 0;
    if (zeroPolls >= 2) break;
    if (Date.now() - from > timeoutMs) throw new Error(`not caught up after ${timeoutMs / 1000} s: ${JSON.stringify(lag)}`);
    await sleep(250);
  }
  const caughtUp: Record<string, number> = {};
  for (const g of groups) {
    let at = samples[0]!.t;
    for (let i = 0; i < samples.length; i++) if (samples[i]!.lag[g.processor]! > 0) at = samples[i + 1]?.t ?? samples[i]!.t;
    caughtUp[g.processor] = at;
  }
  return { samples, caughtUp, seconds: samples[samples.length - 2]!.t };
}

interface Sustained {
  from_s: number;
  records: number;
  records_per_second: number;
}

/**
 * A group's rate once it is working: from the first poll at which its lag had
 * gone down (its first commit: the group joined, restored and flushed once)
 * to lag 0, the lag of that poll over the time between. Excludes the start
 * (the group's join, which Kafka delays group.initial.rebalance.delay.ms, 3 s
 * by default, for the other members). Null when the first poll saw no lag.
 */
function sustained(samples: LagSample[], processor: string, caughtUp: number): Sustained | null {
  const initial = samples[0]?.lag[processor] ?? 0;
  const first = samples.find((s) => s.lag[processor]! < initial);
  if (!first || initial === 0 || caughtUp <= first.t) return null;
  const records = first.lag[processor]!;
  return { from_s: Math.round(first.t * 10) / 10, records, records_per_second: Math.round(records / (caughtUp - first.t)) };
}

// ---------------------------------------------------------------------------
// /metrics and ClickHouse

async function scrape(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

/** Sum of a counter's series (optionally those whose labels match `filter`). */
function counter(text: string, name: string, filter = ''): number {
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))) if (m[1]!.includes(filter)) sum += Number(m[2]);
  return sum;
}

function probeCount(text: string): number {
  const m = new RegExp(`^feedbackloop_model_metric\\{model="${PROBE_MODEL}",role="champion",version="[^"]*",segment="\\*",window="total",metric="count"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

async function clickhouse(query: string): Promise<string> {
  const response = await fetch(STACK.clickhouseUrl, { method: 'POST', body: query });
  const body = await response.text();
  if (!response.ok) throw new Error(`ClickHouse: ${body.slice(0, 300)}`);
  return body;
}

// ---------------------------------------------------------------------------
// Phase 1: the backlog

async function* lines(path: string): AsyncGenerator<string> {
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) if (line) yield line;
}

async function lastTimestamp(path: string): Promise<number> {
  let last = 0;
  for await (const line of lines(path)) last = Math.max(last, (JSON.parse(line) as { timestamp: number }).timestamp);
  return last;
}

/** Produces the replay stream's two files into the input topics, timestamps moved by `shift`; returns the counts. */
async function produceBacklog(producer: LogProducer, codecs: JoinerCodecs, topics: PipelineTopics, files: { predictions: string; feedback: string }, shift: number): Promise<{ predictions: number; feedback: number }> {
  const counts = { predictions: 0, feedback: 0 };
  for (const side of ['predictions', 'feedback'] as const) {
    let batch: OutgoingRecord[] = [];
    for await (const line of lines(files[side])) {
      const event = JSON.parse(line) as Prediction & Feedback;
      event.timestamp += shift;
      const value = side === 'predictions' ? await codecs.prediction.encode(event) : await codecs.feedback.encode(event);
      batch.push({ topic: side === 'predictions' ? topics.predictions : topics.feedback, key: Buffer.from(event.prediction_id), value });
      counts[side]++;
      if (batch.length >= 5_000) {
        await producer.send(batch);
        batch = [];
      }
    }
    await producer.send(batch);
  }
  return counts;
}

// ---------------------------------------------------------------------------
// Phase 2: latency at a fixed rate

const REGIONS = ['eu', 'us', 'latam', 'apac'];
const PLANS = ['free', 'pro', 'enterprise'];
const COUNTRIES = ['DE', 'FR', 'US', 'BR', 'IN', 'JP'];

/** Sends `records`, stamping the probes among them with the send and the ack (and adding them to `probes`); resolves with the ms the send took. */
async function sendStamped(producer: LogProducer, records: OutgoingRecord[], stamped: Probe[], probes: Probe[]): Promise<number> {
  const sentAt = Date.now();
  for (const p of stamped) {
    p.sentAt = sentAt;
    probes.push(p);
  }
  await producer.send(records);
  const ackedAt = Date.now();
  for (const p of stamped) p.ackedAt = ackedAt;
  return ackedAt - sentAt;
}

interface Probe {
  k: number;
  id: string;
  sentAt: number;
  ackedAt: number;
  gauge?: number;
  clickhouse?: number;
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function summary(values: number[]): { n: number; p50_ms: number | null; p99_ms: number | null; max_ms: number | null; mean_ms: number | null } {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50_ms: percentile(sorted, 50),
    p99_ms: percentile(sorted, 99),
    max_ms: sorted.length ? sorted[sorted.length - 1]! : null,
    mean_ms: sorted.length ? Math.round(sorted.reduce((s, v) => s + v, 0) / sorted.length) : null,
  };
}

async function latencyPhase(run: RunProcess, producer: LogProducer, codecs: JoinerCodecs, topics: PipelineTopics, database: string) {
  const rng = mulberry32(20_261_206);
  const probes: Probe[] = [];
  const pendingFeedback: Array<{ due: number; feedback: Feedback; probe?: Probe }> = [];
  let predictions = 0;
  let feedbackSent = 0;
  let producing = true;
  let gaugePolls = 0;
  let clickhousePolls = 0;
  let lateTicks = 0;
  let probeOrdinal = 0;
  let stoppedAt = Number.POSITIVE_INFINITY;
  const sendMs: number[] = [];

  const gaugePoller = (async () => {
    while (producing || probes.some((p) => p.gauge === undefined)) {
      const count = probeCount(await scrape(run.port));
      const now = Date.now();
      gaugePolls++;
      for (const p of probes) if (p.gauge === undefined && p.k <= count) p.gauge = now - p.sentAt;
      if (!producing && Date.now() - stoppedAt > 30_000) break;
      await sleep(50);
    }
  })();
  const clickhousePoller = (async () => {
    while (producing || probes.some((p) => p.clickhouse === undefined)) {
      const waiting = probes.filter((p) => p.clickhouse === undefined && p.sentAt > 0);
      if (waiting.length > 0) {
        const body = await clickhouse(`SELECT prediction_id FROM ${database}.labelled_examples WHERE model = '${PROBE_MODEL}' AND prediction_id IN (${waiting.map((p) => `'${p.id}'`).join(',')}) FORMAT TSV`);
        const now = Date.now();
        clickhousePolls++;
        const seen = new Set(body.split('\n').filter(Boolean));
        for (const p of waiting) if (seen.has(p.id)) p.clickhouse = now - p.sentAt;
      }
      if (!producing && Date.now() - stoppedAt > 30_000) break;
      await sleep(100);
    }
  })();

  const started = Date.now();
  const endAt = started + o.latencySeconds * 1000;
  let events = 0;
  while (Date.now() < endAt) {
    run.check();
    const now = Date.now();
    const due = Math.floor(((now - started) / 1000) * o.rate);
    const records: OutgoingRecord[] = [];
    const probesNow: Probe[] = [];
    // Feedback whose time has come, then new predictions up to the rate (a prediction and its feedback are 2 events).
    while (pendingFeedback.length > 0 && pendingFeedback[0]!.due <= now) {
      const f = pendingFeedback.shift()!;
      f.feedback.timestamp = now;
      records.push({ topic: topics.feedback, key: Buffer.from(f.feedback.prediction_id), value: await codecs.feedback.encode(f.feedback) });
      if (f.probe) probesNow.push(f.probe);
      events++;
      feedbackSent++;
    }
    while (events + pendingFeedback.length < due) {
      const n = predictions++;
      const probe = n % o.sample === o.sample - 1;
      const id = probe ? `probe-${n}` : `live-${n}`;
      const amount = Math.round(Math.exp(3 + 1.5 * gaussian(rng)) * 100) / 100;
      const z = -2.2 + 0.6 * Math.log1p(amount / 50) + 0.5 * gaussian(rng);
      const y = rng() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
      const prediction: Prediction = {
        prediction_id: id, model: probe ? PROBE_MODEL : MODEL, model_version: probe ? 'p1' : 'v7', timestamp: now,
        features: { amount, account_age_days: Math.floor(rng() * 2000), hour: new Date(now).getUTCHours(), items: 1 + Math.floor(rng() * 10) },
        categorical: { country: COUNTRIES[Math.floor(rng() * COUNTRIES.length)]! },
        segments: { region: REGIONS[Math.floor(rng() * REGIONS.length)]!, plan: PLANS[Math.floor(rng() * PLANS.length)]! },
        score: 1 / (1 + Math.exp(-(0.6 * z + 0.8 * gaussian(rng) - 0.5))), threshold: 0.5, shadow_scores: {},
        ...noPredictionClasses(),
      };
      records.push({ topic: topics.predictions, key: Buffer.from(id), value: await codecs.prediction.encode(prediction) });
      events++;
      const feedback: Feedback = { prediction_id: id, timestamp: 0, feedback_type: 'USER_CONFIRMED', label: y, uncertain: false, source: 'bench', notes: null, ...noFeedbackClasses() };
      pendingFeedback.push({ due: now + o.feedbackDelayMs, feedback, ...(probe ? { probe: { k: ++probeOrdinal, id, sentAt: 0, ackedAt: 0 } } : {}) });
    }
    if (records.length > 0) sendMs.push(await sendStamped(producer, records, probesNow, probes));
    const next = 10 - (Date.now() - now);
    if (next > 0) await sleep(next);
    else lateTicks++;
  }
  // The feedback still due: sent at once (its predictions are out).
  const tail: OutgoingRecord[] = [];
  const tailProbes: Probe[] = [];
  for (const f of pendingFeedback.splice(0)) {
    await sleep(Math.max(0, f.due - Date.now()));
    f.feedback.timestamp = Date.now();
    tail.push({ topic: topics.feedback, key: Buffer.from(f.feedback.prediction_id), value: await codecs.feedback.encode(f.feedback) });
    if (f.probe) tailProbes.push(f.probe);
    events++;
    feedbackSent++;
  }
  if (tail.length > 0) await sendStamped(producer, tail, tailProbes, probes);
  const lastSendAt = Date.now();
  const seconds = (lastSendAt - started) / 1000;
  producing = false;
  stoppedAt = Date.now();
  await Promise.all([gaugePoller, clickhousePoller]);
  const sendSorted = [...sendMs].sort((a, b) => a - b);
  return {
    last_send_at: lastSendAt,
    target_events_per_second: o.rate,
    events,
    predictions,
    feedback: feedbackSent,
    seconds: Math.round(seconds * 10) / 10,
    events_per_second: Math.round(events / seconds),
    late_ticks: lateTicks,
    send_ms: { p50: percentile(sendSorted, 50), p99: percentile(sendSorted, 99), max: sendSorted[sendSorted.length - 1] ?? null },
    probes: probes.length,
    feedback_delay_ms: o.feedbackDelayMs,
    gauge_polls: gaugePolls,
    clickhouse_polls: clickhousePolls,
    to_gauge: { ...summary(probes.flatMap((p) => (p.gauge === undefined ? [] : [p.gauge]))), missing: probes.filter((p) => p.gauge === undefined).length },
    to_clickhouse: { ...summary(probes.flatMap((p) => (p.clickhouse === undefined ? [] : [p.clickhouse]))), missing: probes.filter((p) => p.clickhouse === undefined).length },
  };
}

// ---------------------------------------------------------------------------
// CPU profile: top self time

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

function topSelfTime(file: string, count = 20): Array<{ function: string; where: string; self_ms: number; percent: number }> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const node = byNode.get(id)!;
    const where = node.callFrame.url ? `${node.callFrame.url.replace(`file://${ROOT}/`, '').replace(/^.*node_modules\//, '')}:${node.callFrame.lineNumber + 1}` : '';
    const key = `${node.callFrame.functionName || '(anonymous)'}\t${where}`;
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((s, v) => s + v, 0);
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([key, us]) => ({ function: key.split('\t')[0]!, where: key.split('\t')[1]!, self_ms: Math.round(us / 1000), percent: Math.round((1000 * us) / total) / 10 }));
}

/** --prejoin: one `run --only joiner` drains the backlog into labelled examples (and their sharded copy), then stops. */
async function prejoin(admin: Admin, env: Record<string, string>, config: string, logFile: string, groups: Group[], events: number): Promise<{ seconds: number; events_per_second: number }> {
  const joiner = RunProcess.start(env, config, logFile, [], ['joiner']);
  try {
    await joiner.running(120_000);
    const started = Date.now();
    const drain = await waitAllCaughtUp(admin, groups, started, o.drainTimeoutSeconds * 1000, () => joiner.check());
    console.log(`prejoin: ${events} events joined in ${drain.seconds.toFixed(1)} s (run --only joiner, then stopped)`);
    return { seconds: Math.round(drain.seconds * 10) / 10, events_per_second: Math.round(events / drain.seconds) };
  } finally {
    await joiner.stop();
  }
}

/** The processors of each `run` process: one process with all of them, or --split's groups (checked). */
function processGroups(split: string | undefined, processors: readonly string[]): string[][] {
  if (split === undefined) return [[...processors]];
  const groups = split.split('/').map((g) => g.split(',').map((p) => p.trim()).filter((p) => p !== ''));
  const named = groups.flat();
  const wrong = named.filter((p, i) => !processors.includes(p) || named.indexOf(p) !== i);
  const missing = processors.filter((p) => !named.includes(p));
  if (groups.some((g) => g.length === 0) || wrong.length > 0 || missing.length > 0) {
    throw new Error(`--split ${split}: each processor of ${processors.join(', ')} must be in exactly one group (groups split by '/', processors by ','); wrong or repeated: ${wrong.join(', ') || '-'}, missing: ${missing.join(', ') || '-'}`);
  }
  return groups;
}

/** The top self-time functions of the newest `count` profiles in dir (one per `run` process). */
function printProfiles(dir: string, count: number): Array<{ file: string; top_self_time: ReturnType<typeof topSelfTime> }> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f)).sort().slice(-count);
  return files.map((file) => {
    const top = topSelfTime(file);
    console.log(`cpu profile ${file}: top self time`);
    for (const f of top) console.log(`  ${String(f.self_ms).padStart(7)} ms ${f.percent.toFixed(1).padStart(5)}%  ${f.function}  ${f.where}`);
    return { file, top_self_time: top };
  });
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!existsSync(o.cli)) throw new Error(`${o.cli} is missing: run "npm run build" first`);
  const unknown = o.only.filter((p) => !(PROCESSORS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`--only: unknown processor(s) ${unknown.join(', ')} (one of ${PROCESSORS.join(', ')})`);
  const processors = o.only.length > 0 ? PROCESSORS.filter((p) => o.only.includes(p)) : PROCESSORS;
  const processes = processGroups(o.split, processors);
  // ClickHouse only for the processors that write to it.
  const clickhouseUsed = processors.some((p) => p === 'archive' || p === 'evaluator');
  await requireStack('kafka', 'registry', ...(clickhouseUsed ? (['clickhouse'] as const) : []));
  const loadBefore = load();
  const prefix = uniqueName('bench-e2e');
  const database = prefix.replace(/-/g, '_');
  const topics = pipelineTopics(prefix);
  const stateDir = join(STATE_DIR, prefix);
  const work = mkdtempSync(join(tmpdir(), 'feedbackloop-kafka-e2e-'));
  const logDir = join(ROOT, '.cache', 'bench-logs');
  mkdirSync(logDir, { recursive: true });
  const config = join(work, 'config.yaml');
  if (o.shardBy !== 'model' && o.shardBy !== 'prediction') throw new Error(`--shard-by ${o.shardBy}: model or prediction`);
  if (o.models !== 1 && o.models !== 2) throw new Error(`--models ${o.models}: 1 (the stream's model) or 2 (and the probe model; the default)`);
  if (o.prejoin && processors.includes('joiner')) throw new Error('--prejoin drains the backlog with a joiner of its own: leave the joiner out of --only');
  const sharded = o.shardBy === 'prediction';
  const shardedTopic = `${prefix}-labelled-examples-sharded`;
  writeFileSync(config, [
    'models:',
    `  ${MODEL}:`,
    '    task: binary',
    '    challengers: [logreg]',
    ...(o.models === 1 ? [] : [`  ${PROBE_MODEL}:`, '    task: binary', '    challengers: [logreg]']),
    'evaluator:',
    '  windows: [1h, 1d]',
    // A sharded evaluator writes only what merges (docs/scale-out.md): these are refused with shard_by prediction.
    ...(sharded ? ['  shard_by: prediction', '  rolling_size: 0', '  drift_reference_size: 0', '  drift_detectors: false'] : ['  fairness_attributes: [region, plan]']),
    '',
  ].join('\n'));
  const env = joinerEnvironment({
    clientId: prefix, topics, partitions: o.partitions, stateDir,
    extra: {
      FEEDBACKLOOP_CLICKHOUSE_URL: clickhouseUsed ? STACK.clickhouseUrl : '',
      FEEDBACKLOOP_CLICKHOUSE_DATABASE: database,
      FEEDBACKLOOP_EVALUATOR_FLUSH_INTERVAL: `${o.flushInterval}s`,
      FEEDBACKLOOP_LEARNER_SNAPSHOT_INTERVAL: `${o.snapshotInterval}s`,
      FEEDBACKLOOP_TOPICS_SHARDED_EXAMPLES: shardedTopic,
    },
  });
  /** Instance i's environment: its own joiner state folder (the rest shared: one client id, one set of groups). */
  const envOf = (i: number) => (i === 0 ? env : { ...env, FEEDBACKLOOP_JOINER_STATE_DIR: join(stateDir, `instance-${i}`) });

  const transport = new KafkaTransport({ brokers: STACK.brokers, clientId: `${prefix}-bench`, kafka: { logLevel: logLevel.NOTHING } });
  const admin = transport.kafka.admin();
  await admin.connect();
  const runs: RunProcess[] = [];
  const result: Record<string, unknown> = {
    bench: 'kafka-e2e',
    at: new Date().toISOString(),
    machine: '2-core VM shared with other engineers running tests (the load average is theirs and ours)',
    node: process.version,
    options: { ...o, json: undefined },
    settings: {
      processors,
      processes,
      instances: o.instances,
      'evaluator.shard_by': o.shardBy,
      models: o.models,
      prejoin: o.prejoin,
      partitions: o.partitions,
      'evaluator.flush_interval': `${o.flushInterval}s`,
      'learner.snapshot_interval': `${o.snapshotInterval}s`,
      config: readFileSync(config, 'utf8'),
    },
    names: { prefix, database },
    load_before: loadBefore,
  };
  try {
    await transport.ensureTopics([...pipelineTopicSpecs(topics, o.partitions), ...(sharded ? [{ name: shardedTopic, partitions: o.partitions }] : [])]);
    const codecs = joinerCodecs(new SchemaRegistry({ host: STACK.registryUrl }), topics);
    const producer = await transport.producer();

    // Phase 1.
    const files = { predictions: join(work, 'predictions.jsonl'), feedback: join(work, 'feedback.jsonl') };
    const stream = await writeReplayStream(files.predictions, files.feedback, o.predictions, 13);
    const shift = Date.now() - 120_000 - Math.max(await lastTimestamp(files.predictions), await lastTimestamp(files.feedback));
    let t = Date.now();
    const produced = await produceBacklog(producer, codecs, topics, files, shift);
    const produceSeconds = (Date.now() - t) / 1000;
    const inputEvents = produced.predictions + produced.feedback;
    console.log(`backlog: ${produced.predictions} predictions + ${produced.feedback} feedback (${stream.corrections} corrections) produced in ${produceSeconds.toFixed(1)} s`);

    const groups = groupsOf(prefix, topics, processors, sharded ? shardedTopic : topics.labelled);
    if (o.prejoin) result.prejoin = await prejoin(admin, env, config, join(logDir, `${prefix}-prejoin.log`), groupsOf(prefix, topics, ['joiner'], topics.labelled), inputEvents);
    const nodeFlags = o.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProf}`] : [];
    if (o.cpuProf) mkdirSync(o.cpuProf, { recursive: true });
    const spawned = Date.now();
    for (let instance = 0; instance < o.instances; instance++) {
      for (const [i, group] of processes.entries()) {
        const name = `${prefix}-run${processes.length > 1 ? `-${i + 1}` : ''}${o.instances > 1 ? `-instance-${instance + 1}` : ''}.log`;
        runs.push(RunProcess.start(envOf(instance), config, join(logDir, name), nodeFlags, group));
      }
    }
    for (const r of runs) await r.running(120_000);
    const running = Date.now();
    const checkAll = () => runs.forEach((r) => r.check());
    const drain = await waitAllCaughtUp(admin, groups, running, o.drainTimeoutSeconds * 1000, checkAll);
    // The processes' counters are disjoint (each counts its own processors): summed over the texts.
    const texts = await Promise.all(runs.map((r) => scrape(r.port)));
    const metricsAfterDrain = texts.join('\n');
    // Per process: seconds the evaluator spent applying batches, and from each drain to its commit (its flushes: written in the background, they overlap the batches).
    const sumOf = (text: string, name: string) => Number(new RegExp(`^${name}_sum(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
    const countOf = (text: string, name: string) => Number(new RegExp(`^${name}_count(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
    const evaluatorSeconds = texts.map((t) => ({ batches: Math.round(sumOf(t, 'feedbackloop_evaluator_batch_seconds') * 100) / 100, flushes: Math.round(sumOf(t, 'feedbackloop_evaluator_flush_seconds') * 100) / 100, count: countOf(t, 'feedbackloop_evaluator_flush_seconds') }));
    const cpuAfterDrain = runs.map((r) => r.cpuSeconds());
    // How each group's input partitions were spread over its members (the processes) at the end.
    const assignments: Record<string, number[][]> = {};
    for (const g of groups) assignments[g.processor] = [...(await groupAssignments(admin, g.groupId, g.topics[0]!)).values()];
    const labelled = counter(metricsAfterDrain, 'feedbackloop_examples_evaluated_total');
    const perGroup: Record<string, { caught_up_s: number; records: number; records_per_second: number; sustained: Sustained | null }> = {};
    // The labelled examples' readers: the records of their input (the counter would count twice what a rebalance had re-read).
    const inputRecords = async (g: Group) => (await Promise.all(g.topics.map((topic) => admin.fetchTopicOffsets(topic)))).flat().reduce((sum, p) => sum + Number(p.high), 0);
    for (const g of groups) {
      const records = g.processor === 'joiner' ? inputEvents : g.processor === 'archive' ? produced.predictions : g.processor === 'registry' ? 0 : await inputRecords(g);
      const s = drain.caughtUp[g.processor]!;
      perGroup[g.processor] = { caught_up_s: Math.round(s * 10) / 10, records, records_per_second: s > 0 ? Math.round(records / s) : 0, sustained: sustained(drain.samples, g.processor, s) };
    }
    if (perGroup.registry) {
      const offsets = await Promise.all([topics.snapshots, topics.promotions].map((topic) => admin.fetchTopicOffsets(topic)));
      perGroup.registry.records = offsets.flat().reduce((sum, p) => sum + Number(p.high), 0);
      perGroup.registry.records_per_second = Math.round(perGroup.registry.records / Math.max(0.1, drain.caughtUp.registry!));
    }
    const joinerSeconds = drain.caughtUp.joiner ?? Number.NaN;
    result.drain = {
      input: { ...produced, events: inputEvents, corrections_in_stream: stream.corrections, produce_seconds: Math.round(produceSeconds * 10) / 10 },
      startup_seconds: Math.round((running - spawned) / 100) / 10,
      seconds: Math.round(drain.seconds * 10) / 10,
      events_per_second: Math.round(inputEvents / drain.seconds),
      joiner_predictions_per_second: Math.round(produced.predictions / joinerSeconds),
      labelled_examples: labelled,
      join_events: Object.fromEntries([...metricsAfterDrain.matchAll(/^feedbackloop_join_events_total\{event="([^"]+)"\} (\S+)$/gm)].map((m) => [m[1], Number(m[2])])),
      groups: perGroup,
      // Each `run` process's CPU seconds from its start to lag 0 (its start-up included).
      cpu_seconds: cpuAfterDrain,
      evaluator_seconds: evaluatorSeconds,
      assignments,
      lag_timeline: drain.samples.filter((_, i) => i % 4 === 0 || i === drain.samples.length - 1).map((s) => ({ t: Math.round(s.t * 10) / 10, ...s.lag })),
    };
    result.load_after_drain = load();
    console.log(`drain: ${inputEvents} events, every group at lag 0 after ${drain.seconds.toFixed(1)} s = ${Math.round(inputEvents / drain.seconds)} events/s (run started in ${((running - spawned) / 1000).toFixed(1)} s)`);
    console.log(`  CPU seconds per run process (start to lag 0): ${cpuAfterDrain.map((c) => (c === null ? '-' : c.toFixed(2))).join(', ')}; partitions per member: ${JSON.stringify(assignments)}`);
    if (processors.includes('evaluator')) console.log(`  evaluator seconds per process (applying batches / flushing, drain to commit, in the background): ${evaluatorSeconds.map((e) => `${e.batches} / ${e.flushes} (${e.count} flushes)`).join(', ')}`);
    console.log('  group       lag 0 at (s)   records   records/s   sustained records/s (from its first commit)');
    for (const [name, g] of Object.entries(perGroup)) {
      const after = g.sustained ? `${String(g.sustained.records_per_second).padStart(11)} (${g.sustained.records} records from ${g.sustained.from_s} s)` : '-';
      console.log(`  ${name.padEnd(10)} ${g.caught_up_s.toFixed(1).padStart(13)} ${String(g.records).padStart(9)} ${String(g.records_per_second).padStart(11)}   ${after}`);
    }

    // Phase 2.
    if (o.latencySeconds > 0 && !processors.includes('evaluator')) console.log('latency: skipped (it needs the evaluator; --only leaves it out)');
    else if (o.latencySeconds > 0 && (o.models === 1 || sharded)) console.log('latency: skipped (it needs the probe model, and its gauge from an unsharded evaluator)');
    else if (o.latencySeconds > 0) {
      const loadBeforeLatency = load();
      const evaluating = runs[processes.findIndex((g) => g.includes('evaluator'))]!;
      const latency = await latencyPhase(evaluating, producer, codecs, topics, database);
      // From the last send: the probes were all seen (or given up on) before this starts.
      const after = await waitAllCaughtUp(admin, groups, latency.last_send_at, 300_000, checkAll);
      result.latency = { ...latency, caught_up_after_s: Math.round(after.seconds * 10) / 10, load_before: loadBeforeLatency, load_after: load() };
      console.log(`latency: ${latency.events} events in ${latency.seconds} s = ${latency.events_per_second} events/s (target ${o.rate}), ${latency.probes} probes (1 in ${o.sample} predictions, model ${PROBE_MODEL}), evaluator.flush_interval ${o.flushInterval}s`);
      console.log('  feedback sent → ...     n   p50 ms   p99 ms   max ms  missing');
      for (const [name, s] of [['gauge on /metrics', latency.to_gauge], ['row in ClickHouse', latency.to_clickhouse]] as const) {
        console.log(`  ${name.padEnd(20)} ${String(s.n).padStart(5)} ${String(s.p50_ms).padStart(8)} ${String(s.p99_ms).padStart(8)} ${String(s.max_ms).padStart(8)} ${String(s.missing).padStart(8)}`);
      }
      console.log(`  (producer send p50/p99 ${latency.send_ms.p50}/${latency.send_ms.p99} ms; every group back at lag 0 ${after.seconds.toFixed(1)} s after the last send)`);
    }
    await producer.close();
    result.run_problems = runs.length === 1 ? runs[0]!.problems() : runs.map((r) => r.problems());
    for (const r of runs) await r.stop();
    result.run_exit = runs.length === 1 ? runs[0]!.exit : runs.map((r) => r.exit);
    if (o.cpuProf) result.cpu_profile = printProfiles(o.cpuProf, runs.length);
  } finally {
    for (const r of runs) await r.stop(10_000);
    if (!o.keep) {
      await admin.deleteTopics({ topics: [...Object.values(topics), ...(sharded ? [shardedTopic] : [])] }).catch(() => {});
      if (clickhouseUsed) await clickhouse(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
      removeStateDir(stateDir);
    }
    rmSync(work, { recursive: true, force: true });
    await admin.disconnect();
    await transport.close();
  }
  result.load_after = load();
  console.log(`load average before ${JSON.stringify(loadBefore)}, after ${JSON.stringify(result.load_after)} (2 cores, shared with other engineers' tests)`);
  mkdirSync(dirname(o.json), { recursive: true });
  writeFileSync(o.json, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${o.json}`);
}

await main();
