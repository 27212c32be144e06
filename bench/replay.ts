/**
 * Replay benchmark (issue "Production lifetimes"): throughput and peak RSS of
 * `feedbackloop replay` with every processor on (joiner, learner, evaluator,
 * promoter), and the same stream through a River loop in the same run.
 *
 *   npm run build && npm run bench:replay
 *   npm run bench:replay -- --predictions 250000,2000000 --reps 3 --max-old-space-size 16384
 *
 * Options: --predictions N[,N...] (default 250000), --reps N (default 1;
 * ours and River alternate, medians reported), --seed N (default 42),
 * --max-old-space-size MB (passed to the replay's node; default node's own),
 * --heap-growing-percent P (V8's flag, passed to the replay's node: the heap
 * grows to (1 + P/100) times its live set between major collections instead
 * of up to 4 times; default V8's own),
 * --mean-gap-ms G (mean time between predictions, default 500: the stream
 * spans about predictions × G; a larger gap makes a stream that spans the
 * join horizon with few predictions), --no-river, --keep (leave the temp
 * dir), --json PATH (default out/bench/replay.json).
 *
 * Per size: bench/replay-stream.ts writes the predictions and feedback
 * (seeded) and a config (one binary model, a logreg challenger) to a temp
 * dir; then `node dist/cli/main.js replay` and
 * `.venv/bin/python bench/reference/river_loop.py` run on the same files as
 * child processes under /usr/bin/time -v. Events/s = (predictions + feedback
 * lines) / the whole process's wall time (start-up and output files
 * included, on both sides); peak RSS = time's "Maximum resident set size". A
 * replay that fails (e.g. out of memory) is a figure: "did not finish: …".
 * The load average is recorded before and after each run: the machine is shared.
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { MEAN_GAP_MS, replayConfig, writeReplayStream, type StreamCounts } from './replay-stream.js';

interface Options {
  sizes: number[];
  reps: number;
  seed: number;
  meanGapMs: number;
  maxOldSpace: number | undefined;
  heapGrowingPercent: number | undefined;
  river: boolean;
  keep: boolean;
  json: string;
}

/** One child process run: wall time, peak RSS, and its output when it succeeded. */
interface Run {
  ok: boolean;
  seconds: number;
  peak_rss_mib: number | null;
  error?: string;
  stdout: string;
  load_before: string;
  load_after: string;
}

interface Side {
  events_per_s: number | null;
  seconds: number;
  peak_rss_mib: number | null;
  error?: string;
  load: string;
}

const PYTHON = '.venv/bin/python';
const CLI = 'dist/cli/main.js';

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} takes positive integers, got ${JSON.stringify(text)}`);
  return n;
}

function options(): Options {
  const mos = argValue('max-old-space-size');
  const hgp = argValue('heap-growing-percent');
  return {
    sizes: (argValue('predictions') ?? '250000').split(',').map((s) => positive('predictions', s.trim())),
    reps: positive('reps', argValue('reps') ?? '1'),
    seed: positive('seed', argValue('seed') ?? '42'),
    meanGapMs: positive('mean-gap-ms', argValue('mean-gap-ms') ?? String(MEAN_GAP_MS)),
    maxOldSpace: mos === undefined ? undefined : positive('max-old-space-size', mos),
    heapGrowingPercent: hgp === undefined ? undefined : positive('heap-growing-percent', hgp),
    river: !process.argv.includes('--no-river'),
    keep: process.argv.includes('--keep'),
    json: argValue('json') ?? 'out/bench/replay.json',
  };
}

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** "Maximum resident set size (kbytes): N" of /usr/bin/time -v, in MiB. */
function peakRss(stderr: string): number | null {
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  return m ? Math.round(Number(m[1]) / 1024) : null;
}

/** Why a run failed: the last lines of its stderr before time's report (a V8 heap OOM names itself there). */
function failure(stderr: string, code: number | null, signal: string | null): string {
  const own = stderr.split(/\n\s*Command (?:being timed|exited|terminated)/)[0]!.trim().split('\n');
  const oom = own.find((l) => /heap out of memory|Allocation failed|ENOMEM/i.test(l));
  const last = oom ?? own.filter((l) => l.trim() !== '').slice(-1)[0] ?? '';
  return `${signal ? `signal ${signal}` : `exit ${code}`}: ${last.trim().slice(0, 300)}`;
}

/** Runs a command under /usr/bin/time -v; the wall time is taken here, around the whole process. */
function timed(command: string, args: string[]): Promise<Run> {
  const load_before = loadavg();
  const start = performance.now();
  const child = spawn('/usr/bin/time', ['-v', command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-64_000)));
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      const seconds = (performance.now() - start) / 1000;
      const ok = code === 0 && !/Command exited with non-zero status|Command terminated by signal/.test(stderr);
      const run: Run = { ok, seconds, peak_rss_mib: peakRss(stderr), stdout, load_before, load_after: loadavg() };
      resolve(ok ? run : { ...run, error: `did not finish: ${failure(stderr, code, signal)}` });
    });
  });
}

function side(run: Run, events: number): Side {
  return {
    events_per_s: run.ok ? Math.round(events / run.seconds) : null,
    seconds: Math.round(run.seconds * 100) / 100,
    peak_rss_mib: run.peak_rss_mib,
    ...(run.error ? { error: run.error } : {}),
    load: `${run.load_before} -> ${run.load_after}`,
  };
}

function ours(dir: string, o: Options, rep: number): Promise<Run> {
  const heap = [
    ...(o.maxOldSpace ? [`--max-old-space-size=${o.maxOldSpace}`] : []),
    ...(o.heapGrowingPercent ? [`--heap-growing-percent=${o.heapGrowingPercent}`] : []),
  ];
  const out = join(dir, `out-${rep}`);
  rmSync(out, { recursive: true, force: true });
  return timed('node', [...heap, CLI, 'replay', '--predictions', join(dir, 'predictions.jsonl'), '--feedback', join(dir, 'feedback.jsonl'), '--config', join(dir, 'config.yaml'), '--out', out]);
}

function river(dir: string): Promise<Run> {
  return timed(PYTHON, ['bench/reference/river_loop.py', join(dir, 'predictions.jsonl'), join(dir, 'feedback.jsonl')]);
}

function median(values: number[]): number | null {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return null;
  return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
}

const round = (x: number | null, digits = 0) => (x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits);

/** The replay's own counts, read back, so a run that joined nothing is seen. */
function replayCounts(dir: string, rep: number): Record<string, unknown> | null {
  const path = join(dir, `out-${rep}`, 'summary.json');
  if (!existsSync(path)) return null;
  const s = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const keys = ['predictions_read', 'feedback_read', 'labelled', 'corrections', 'unmatched', 'expired_unlabelled', 'pending_at_end', 'dead_letters', 'metric_points', 'drift_alarms', 'snapshots_published', 'decisions'];
  return Object.fromEntries(keys.map((k) => [k, s[k]]));
}

const FIVE = ['accuracy', 'precision', 'recall', 'log_loss', 'roc_auc'];

/**
 * The replay's final figures of the five metrics (window total, segment *) per role, to set beside
 * the River loop's: the champion's must agree (the same labels on the same scores; AUC aside,
 * River's is approximate), which shows both loops joined and corrected alike.
 */
async function replayFigures(dir: string, rep: number): Promise<Record<string, Record<string, number>> | null> {
  const path = join(dir, `out-${rep}`, 'metrics.jsonl');
  if (!existsSync(path)) return null;
  const figures: Record<string, Record<string, number>> = {};
  for await (const line of createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity })) {
    if (!line.includes('"window":"total"') || !line.includes('"segment":"*"')) continue;
    const p = JSON.parse(line) as { role: string; metric: string; value: number };
    if (FIVE.includes(p.metric)) (figures[p.role] ??= {})[p.metric] = p.value;
  }
  return figures;
}

/** One rep: ours, then River's loop, on the same files (alternating keeps drift in the machine's speed out of the ratio). */
async function rep(dir: string, o: Options, i: number, events: number) {
  const a = await ours(dir, o, i);
  const counts = replayCounts(dir, i);
  const figures = await replayFigures(dir, i);
  if (!o.keep) rmSync(join(dir, `out-${i}`), { recursive: true, force: true });
  const b = o.river ? await river(dir) : undefined;
  const ourSide = side(a, events);
  const riverSide = b ? side(b, events) : undefined;
  const riverOut = b?.ok ? (JSON.parse(b.stdout) as Record<string, unknown>) : undefined;
  const ratio = ourSide.events_per_s !== null && riverSide?.events_per_s ? ourSide.events_per_s / riverSide.events_per_s : null;
  return { ours: { ...ourSide, counts, figures }, river: riverSide ? { ...riverSide, loop: riverOut } : null, ratio: round(ratio, 3) };
}

type Rep = Awaited<ReturnType<typeof rep>>;

function summarise(reps: Rep[]) {
  const eps = (r: Rep[], pick: (x: Rep) => Side | null) => round(median(r.map((x) => pick(x)?.events_per_s ?? NaN)));
  const rss = (pick: (x: Rep) => Side | null) => median(reps.map((x) => pick(x)?.peak_rss_mib ?? NaN));
  return {
    ours_events_per_s: eps(reps, (x) => x.ours),
    river_events_per_s: eps(reps, (x) => x.river),
    ratio: round(median(reps.map((x) => x.ratio ?? NaN)), 3),
    ours_peak_rss_mib: rss((x) => x.ours),
    river_peak_rss_mib: rss((x) => x.river),
    ours_failures: reps.map((x) => x.ours.error).filter((e) => e !== undefined),
  };
}

async function size(predictions: number, o: Options) {
  const dir = mkdtempSync(join(tmpdir(), 'feedbackloop-bench-replay-'));
  try {
    const stream: StreamCounts = await writeReplayStream(join(dir, 'predictions.jsonl'), join(dir, 'feedback.jsonl'), predictions, o.seed, o.meanGapMs);
    writeFileSync(join(dir, 'config.yaml'), replayConfig());
    const events = stream.predictions + stream.feedback;
    console.log(`${predictions} predictions: ${events} events (${stream.feedback} feedback, ${stream.corrections} corrections), ${(stream.bytes / 2 ** 20).toFixed(0)} MiB in ${dir}`);
    const reps: Rep[] = [];
    for (let i = 0; i < o.reps; i++) {
      const r = await rep(dir, o, i, events);
      reps.push(r);
      print(i, r);
    }
    return { predictions, events, stream, reps, median: summarise(reps) };
  } finally {
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}

function print(i: number, r: Rep): void {
  const fig = (s: Side) => (s.error ? s.error : `${s.events_per_s} events/s (${s.seconds} s), peak RSS ${s.peak_rss_mib} MiB, load ${s.load}`);
  console.log(`  rep ${i + 1}: replay ${fig(r.ours)}`);
  if (r.river) console.log(`         River loop ${fig(r.river)}; ours/River ${r.ratio ?? '-'}`);
}

async function main(): Promise<void> {
  const o = options();
  if (!existsSync(CLI)) throw new Error(`${CLI} not found: npm run build first`);
  if (o.river && !existsSync(PYTHON)) throw new Error(`${PYTHON} not found: bash scripts/python-env.sh first (it installs river), or --no-river`);
  const results = [];
  for (const predictions of o.sizes) {
    const r = await size(predictions, o);
    const m = r.median;
    console.log(`  median: replay ${m.ours_events_per_s ?? 'did not finish'} events/s, peak RSS ${m.ours_peak_rss_mib} MiB; River ${m.river_events_per_s ?? '-'} events/s, peak RSS ${m.river_peak_rss_mib ?? '-'} MiB; ratio ${m.ratio ?? '-'}`);
    results.push(r);
  }
  const report = { when: new Date().toISOString(), node: process.version, cores: cpus().length, seed: o.seed, mean_gap_ms: o.meanGapMs, max_old_space_size_mb: o.maxOldSpace ?? null, heap_growing_percent: o.heapGrowingPercent ?? null, sizes: results };
  mkdirSync(dirname(o.json), { recursive: true });
  writeFileSync(o.json, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`written to ${o.json}`);
}

await main();
