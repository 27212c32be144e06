/**
 * Issue 16's first "done when" on a replay (runtime/replay.ts: files in,
 * every processor on, files out): a multi-class stream with three classes,
 * rejections, corrections between classes and a concept change at half-way.
 * The evaluator's final `total` figures of the champion equal scikit-learn's
 * on the final labels (bench/reference/class_metrics_reference.py, to 1e-9);
 * a `softmax` challenger learns the change and is promoted after it (the
 * decision's time, n and statistic asserted exactly, the statistic also
 * recomputed from labelled.jsonl); on a stationary stream it never is.
 *
 * The world (test/unit/multiclass-promotion.test.ts's, in process there):
 * x1, x2 ~ N(0, 1), three classes (spike, drift, outage) with true
 * probabilities softmax(2·x1, 2·x2, 0); at half-way softmax(0, 2·x1, 2·x2).
 * Upstream's champion serves the first concept's probabilities throughout.
 * One prediction a minute; its label 10 minutes later (EXPERT_REVIEW with
 * the class), or, one in ten, first a USER_REJECTED of the served class
 * without the right one, then 30 minutes later the true class (a correction
 * between classes whenever the served class was not the true one).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../../adapters/config/index.js';
import { ManualClock } from '../../core/clock.js';
import { noFeedbackClasses, type Feedback, type Prediction } from '../../core/events.js';
import { MULTICLASS_LOG_LOSS_EPSILON } from '../../core/metrics/index.js';
import { mulberry32 } from '../../demo/random.js';
import { replay, type ReplaySummary } from '../../runtime/replay.js';
import { writeReplayInput } from '../support/replay-files.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PYTHON = join(ROOT, '.venv', 'bin', 'python');
const MINUTE = 60_000;
const T0 = Date.UTC(2025, 5, 1);
const CLASSES = ['spike', 'drift', 'outage'];
const N = 8000;

const DIR = mkdtempSync(join(tmpdir(), 'replay-multiclass-promotion-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

function softmax(z: number[]): number[] {
  const m = Math.max(z[0]!, z[1]!, z[2]!);
  const e = z.map((v) => Math.exp(v - m));
  const s = e[0]! + e[1]! + e[2]!;
  return e.map((v) => v / s);
}

const before = (x1: number, x2: number) => softmax([2 * x1, 2 * x2, 0]);
const after = (x1: number, x2: number) => softmax([0, 2 * x1, 2 * x2]);

interface Stream {
  predictions: Prediction[];
  feedback: Feedback[];
  /** Each prediction's final class (index) and the probabilities served. */
  final: Array<{ label: number; probabilities: number[] }>;
}

/** The stream (see the file comment); `change`: whether the concept changes at half-way. */
function stream(change: boolean, seed: number): Stream {
  const random = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const out: Stream = { predictions: [], feedback: [], final: [] };
  for (let i = 0; i < N; i++) {
    const timestamp = T0 + i * MINUTE;
    const x1 = normal();
    const x2 = normal();
    const truth = (change && i >= N / 2 ? after : before)(x1, x2);
    const u = random();
    const label = u < truth[0]! ? 0 : u < truth[0]! + truth[1]! ? 1 : 2;
    const served = before(x1, x2);
    const class_scores: Record<string, number> = {};
    CLASSES.forEach((c, k) => (class_scores[c] = served[k]!));
    const id = `p${i}`;
    out.predictions.push({
      prediction_id: id, model: 'anomaly', model_version: 'v1', timestamp, features: { x1, x2 }, categorical: {}, segments: {},
      score: 0, threshold: 0.5, shadow_scores: {}, class_scores, predicted_class: null, predicted_labels: null,
    });
    out.final.push({ label, probabilities: served });
    const fb = (at: number, type: Feedback['feedback_type'], labelClass: string | null): Feedback => ({
      prediction_id: id, timestamp: at, feedback_type: type, label: null, uncertain: false, source: 'review', notes: null, ...noFeedbackClasses(), label_class: labelClass,
    });
    if (random() < 0.1) {
      out.feedback.push(fb(timestamp + 10 * MINUTE, 'USER_REJECTED', null));
      out.feedback.push(fb(timestamp + 40 * MINUTE, 'EXPERT_REVIEW', CLASSES[label]!));
    } else {
      out.feedback.push(fb(timestamp + 10 * MINUTE, 'EXPERT_REVIEW', CLASSES[label]!));
    }
  }
  out.feedback.sort((a, b) => a.timestamp - b.timestamp);
  return out;
}

interface Run {
  out: string;
  summary: ReplaySummary;
  decisions: Array<{ decision: string; from_version: string; to_version: string; at: number; n: number; statistic: number }>;
}

async function run(s: Stream, name: string): Promise<Run> {
  const input = writeReplayInput(mkdtempSync(join(DIR, `${name}-`)), s.predictions, s.feedback);
  const out = mkdtempSync(join(DIR, `out-${name}-`));
  const config = buildConfig({
    joiner: { join_window: '1d' },
    learner: { snapshot_every: 100 },
    evaluator: { windows: ['1d'] },
    models: { anomaly: { task: 'multiclass', classes: CLASSES, challengers: ['softmax'] } },
  });
  const summary = await replay({ ...input, out, config, clock: new ManualClock(T0 + 60 * 86_400_000) });
  const decisions = readFileSync(join(out, 'promotions.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Run['decisions'][number]);
  return { out, summary, decisions };
}

const lines = <T>(path: string): T[] => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);

type Reference = Record<string, number | null | (number | null)[]>;

function sklearn(rows: Array<{ label: number; predicted: number; probabilities: number[] }>): Reference {
  const input = { multiclass: { it: { classes: CLASSES.length, top_k: 3, rows } } };
  const out = execFileSync(PYTHON, [join(ROOT, 'bench/reference/class_metrics_reference.py')], { input: JSON.stringify(input), maxBuffer: 1 << 26 });
  return (JSON.parse(out.toString('utf8')) as Record<string, Reference>).it!;
}

function expectClose(ours: number | null | undefined, theirs: number | null, what: string): void {
  if (theirs === null) return expect(ours, what).toBeNull();
  expect(ours, what).not.toBeNull();
  expect(Math.abs(ours! - theirs), `${what}: ${ours} vs ${theirs}`).toBeLessThanOrEqual(1e-9);
}

const argmax = (p: number[]) => p.indexOf(Math.max(p[0]!, p[1]!, p[2]!));

describe('replay: a multi-class stream with a concept change', () => {
  const changing = stream(true, 16);
  let result: Run;

  it('the softmax challenger learns the change and is promoted after it, with the exact evidence', async () => {
    result = await run(changing, 'change');
    // 797 rejections (each a labelled example without a class), each corrected by the right class 30 minutes later.
    expect([result.summary.labelled, result.summary.corrections]).toEqual([N, 797]);
    const summary = result.decisions.map((d) => `${d.decision} ${d.from_version} -> ${d.to_version} at +${(d.at - T0) / MINUTE} min, n ${d.n}, statistic ${d.statistic}`);
    // The change is at +4000 min: promoted 395 minutes (about 390 labels) after it.
    expect(summary).toEqual(['promote v1 -> anomaly/softmax@47 at +4395 min, n 3896, statistic 0.01636172094451539']);
    // The statistic recomputed from labelled.jsonl: the mean over the paired examples decided before it
    // of −log p_champion(true) + log p_challenger(true).
    const clip = (p: number) => Math.min(1 - MULTICLASS_LOG_LOSS_EPSILON, Math.max(MULTICLASS_LOG_LOSS_EPSILON, p));
    const d = result.decisions[0]!;
    let n = 0;
    let sum = 0;
    type Example = { label_class: string | null; class_scores: Record<string, number>; shadow_scores: Record<string, number>; feedback_timestamp: number; model: string };
    for (const x of lines<Example>(join(result.out, 'labelled.jsonl'))) {
      if (n === d.n) break;
      if (x.label_class === null) continue;
      const i = CLASSES.indexOf(x.label_class);
      const keys = Object.keys(x.shadow_scores).filter((k) => k.endsWith(`#${i}`));
      if (keys.length === 0) continue;
      n++;
      sum += -Math.log(clip(x.class_scores[x.label_class]!)) + Math.log(clip(x.shadow_scores[keys[0]!]!));
    }
    expect(n).toBe(d.n);
    // It learned the new concept: over the last 1,000 labels its accuracy is 0.66, the served first concept's 0.164.
    type Point = { role: string; segment: string; window: string; metric: string; value: number };
    const last = new Map<string, number>();
    for (const p of lines<Point>(join(result.out, 'metrics.jsonl'))) if (p.segment === '*' && p.window === 'last_1000' && p.metric === 'accuracy') last.set(p.role, p.value);
    expect(Object.fromEntries(last)).toEqual({ champion: 0.164, challenger: 0.66 });
    expect(sum / n).toBeCloseTo(d.statistic, 12);
  }, 120_000);

  it("gives the champion's total figures scikit-learn gives on the final labels", () => {
    type Point = { model: string; role: string; segment: string; window: string; metric: string; value: number | null };
    const ours = new Map<string, number | null>();
    for (const p of lines<Point>(join(result.out, 'metrics.jsonl'))) {
      if (p.model === 'anomaly' && p.role === 'champion' && p.window === 'total' && p.segment === '*') ours.set(p.metric, p.value);
    }
    const ref = sklearn(changing.final.map((r) => ({ label: r.label, predicted: argmax(r.probabilities), probabilities: r.probabilities })));
    expect(ours.get('count')).toBe(N);
    for (const name of ['count', 'accuracy', 'macro_precision', 'macro_recall', 'macro_f1', 'micro_f1', 'weighted_precision', 'weighted_recall', 'weighted_f1', 'log_loss', 'brier', 'top_k_accuracy', 'cohen_kappa']) {
      expectClose(ours.get(name), ref[name] as number | null, name);
    }
    CLASSES.forEach((c, i) => {
      for (const name of ['precision', 'recall', 'f1', 'support']) expectClose(ours.get(`${name}[${c}]`), (ref[name] as (number | null)[])[i]!, `${name}[${c}]`);
      CLASSES.forEach((e, j) => expectClose(ours.get(`confusion[${c}|${e}]`), (ref.confusion as number[])[i * 3 + j]!, `confusion[${c}|${e}]`));
    });
    // The served first concept is right on half of the stream: 3,440 of 8,000 predicted classes right.
    expect([ours.get('accuracy'), ours.get('macro_f1')]).toEqual([0.43, 0.42692937913827556]);
  });

  it('a stationary stream: the challenger is never promoted over the true champion', async () => {
    const { summary, decisions } = await run(stream(false, 16), 'stationary');
    expect(summary.labelled).toBe(N);
    expect(decisions).toEqual([]);
  }, 120_000);
});
