/**
 * `feedbackloop demo`: a seeded synthetic world run through the replay, no
 * servers. Two models over four days of event time:
 *
 *   fraud-detector   20,000 transactions; the label follows a logistic model
 *                    of the features and the upstream champion scores a noisy
 *                    version of it. At the midpoint the concept changes: old
 *                    accounts become the risky ones (the sign of
 *                    account_age_days flips) and amounts grow, so drift is
 *                    detected, the champion degrades and a challenger (logreg,
 *                    ftrl, learning online) is promoted.
 *   churn-predictor  5,000 customers, a stable relation, no challengers.
 *
 * Feedback is delayed (a minute to 12 hours) and of all four types: user
 * verdicts (CONFIRMED/REJECTED, null label), some wrong and later corrected
 * by an expert; AUTO_VALIDATED; EXPERT_REVIEW; uncertain reviews; exact
 * duplicates; and some predictions are never labelled.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildConfig } from '../adapters/config/index.js';
import { mulberry32 } from '../bench/stream.js';
import { ManualClock } from '../core/clock.js';
import { ALL_SEGMENTS } from '../core/contracts/index.js';
import { ConfigError } from '../core/errors.js';
import type { Feedback, FeedbackType, Prediction } from '../core/events.js';
import type { DriftRecord, MetricPoint } from '../core/evaluate/index.js';
import { replay, type ReplaySummary } from './replay.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
export const DEMO_START = Date.UTC(2025, 5, 2);
export const DEMO_DAYS = 4;
/** The concept change of fraud-detector: the midpoint. */
export const DEMO_CHANGE = DEMO_START + (DEMO_DAYS / 2) * DAY;
export const DEMO_COUNTS = { 'fraud-detector': 20_000, 'churn-predictor': 5_000 } as const;

export interface DemoOptions {
  out?: string;
  seed?: number;
  /** Phase lines and progress (default: process.stderr); null for silence. */
  progress?: NodeJS.WriteStream | null;
}

export interface DemoResult {
  summary: ReplaySummary;
  /** The text printed to stdout. */
  report: string;
  inputs: { predictions: string; feedback: string; predictionCount: number; feedbackCount: number };
  seconds: number;
}

type Random = () => number;

function pick<T>(random: Random, choices: Array<[T, number]>): T {
  let r = random() * choices.reduce((sum, [, w]) => sum + w, 0);
  for (const [value, w] of choices) if ((r -= w) < 0) return value;
  return choices[choices.length - 1]![0];
}

const gaussian = (random: Random) => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

const REGION: Record<string, string> = { DE: 'eu', FR: 'eu', ES: 'eu', US: 'us', BR: 'us', IN: 'apac', JP: 'apac' };

interface Draw {
  features: Record<string, number>;
  categorical: Record<string, string>;
  segments: Record<string, string>;
  /** True log-odds of the label, and the champion's (what it learned before). */
  truth: number;
  champion: number;
}

function fraudDraw(random: Random, t: number): Draw {
  const after = t >= DEMO_CHANGE;
  const country = pick(random, [['DE', 3], ['FR', 2], ['ES', 1], ['US', 4], ['BR', 1], ['IN', 2], ['JP', 1]]);
  const channel = pick(random, [['web', 5], ['app', 4], ['pos', 3]]);
  const logAmount = (after ? 4.4 : 3.5) + gaussian(random);
  const age = Math.round(-400 * Math.log(1 - random()));
  const txn = round(Math.exp(1 + 0.7 * gaussian(random)), 1);
  // Non-linear in the raw features (log amount, an interaction): the champion knows it, a linear challenger only approximates it.
  const base = -2.2 + 0.9 * (logAmount - 3.5) + 0.4 * (txn - 3) / 3 + (channel === 'web' ? 0.6 : 0) + (country === 'BR' ? 0.5 : 0) + (channel === 'pos' && txn > 5 ? 2.0 : 0) + (channel === 'web' && country === 'IN' ? 1.5 : 0);
  const ageTerm = 1.2 * (age / 400 - 1);
  return {
    features: { amount: round(Math.exp(logAmount), 2), account_age_days: age, txn_per_day: txn },
    categorical: { country, channel },
    segments: { region: REGION[country] ?? 'eu', customer_group: random() < 0.6 ? 'a' : 'b' },
    // The change: old accounts become the risky ones (account takeover), and amounts grow.
    truth: base + (after ? ageTerm - 1.0 : -ageTerm),
    champion: base - ageTerm + 0.2 * gaussian(random),
  };
}

function churnDraw(random: Random): Draw {
  const tenure = 1 + Math.floor(random() * 60);
  const spend = round(Math.max(5, 50 + 20 * gaussian(random)), 2);
  const tickets = Math.floor(-1.5 * Math.log(1 - random()));
  const plan = random() < 0.7 ? 'basic' : 'pro';
  const region = pick(random, [['eu', 5], ['us', 3], ['apac', 2]]);
  const truth = -1 - 0.05 * (tenure - 30) + 0.45 * tickets - 0.01 * (spend - 50) + (plan === 'pro' ? -0.4 : 0);
  return {
    features: { tenure_months: tenure, monthly_spend: spend, support_tickets: tickets },
    categorical: { plan },
    segments: { region, customer_group: random() < 0.5 ? 'a' : 'b' },
    truth,
    champion: truth + 0.2 * gaussian(random),
  };
}

/** The two input streams, each in event-time order. */
export function generateDemo(seed: number): { predictions: Prediction[]; feedback: Feedback[] } {
  const random = mulberry32(seed);
  const delay = (min: number, max: number) => Math.round(Math.exp(Math.log(min) + random() * (Math.log(max) - Math.log(min))));
  const predictions: Prediction[] = [];
  const feedback: Feedback[] = [];
  const models = [
    { model: 'fraud-detector', version: 'v7', threshold: 0.3, draw: (t: number) => fraudDraw(random, t) },
    { model: 'churn-predictor', version: 'c3', threshold: 0.5, draw: () => churnDraw(random) },
  ] as const;
  for (const m of models) {
    const n = DEMO_COUNTS[m.model];
    const gap = (DEMO_DAYS * DAY) / n;
    for (let i = 0; i < n; i++) {
      const timestamp = DEMO_START + Math.floor((i + random()) * gap);
      const d = m.draw(timestamp);
      const score = round(sigmoid(d.champion), 4);
      const id = `${m.model === 'fraud-detector' ? 'tx' : 'cu'}-${i}`;
      predictions.push({
        prediction_id: id, model: m.model, model_version: m.version, timestamp,
        features: d.features, categorical: d.categorical, segments: d.segments, score, threshold: m.threshold,
      });
      const y = random() < sigmoid(d.truth) ? 1 : 0;
      const predicted = score >= m.threshold ? 1 : 0;
      const say = (at: number, type: FeedbackType, label: number | null, uncertain = false) =>
        feedback.push({ prediction_id: id, timestamp: timestamp + at, feedback_type: type, label, uncertain, source: `${type.toLowerCase()}-${i % 5}`, notes: null });
      // A user's verdict (no label): CONFIRMED means the prediction was right, REJECTED that it was wrong.
      const user = (at: number, label: number) => say(at, label === predicted ? 'USER_CONFIRMED' : 'USER_REJECTED', null);
      const first = delay(60_000, 12 * HOUR);
      const later = first + delay(10 * 60_000, 12 * HOUR);
      switch (pick(random, [['none', 8], ['user', 40], ['auto', 24], ['expert', 8], ['corrected', 5], ['confirmed', 4], ['uncertain', 4], ['superseded', 2]])) {
        case 'user': user(first, y); break;
        case 'auto': say(first, 'AUTO_VALIDATED', y); break;
        case 'expert': say(first, 'EXPERT_REVIEW', y); break;
        case 'corrected': user(first, 1 - y); say(later, 'EXPERT_REVIEW', y); break; // a wrong user verdict, corrected
        case 'confirmed': user(first, y); say(later, 'EXPERT_REVIEW', y); break;
        case 'uncertain': say(first, 'AUTO_VALIDATED', y); say(later, 'EXPERT_REVIEW', 1 - y, true); break;
        case 'superseded': say(first, 'AUTO_VALIDATED', y); user(later, 1 - y); break;
        default: break; // never labelled
      }
    }
  }
  for (const f of [...feedback]) if (random() < 0.03) feedback.push({ ...f }); // exact duplicates
  predictions.sort((a, b) => a.timestamp - b.timestamp);
  feedback.sort((a, b) => a.timestamp - b.timestamp);
  return { predictions, feedback };
}

export const demoConfig = () =>
  buildConfig({
    joiner: { join_window: '1d' },
    evaluator: { windows: ['1h', '1d'], fairness_attributes: ['customer_group'] },
    learner: { snapshot_every: 300 },
    models: { 'fraud-detector': { challengers: ['logreg', 'ftrl'] } },
  });

// ---- the report ----

const FIGURES = ['precision', 'recall', 'f1', 'log_loss', 'roc_auc'] as const;
const iso = (t: number) => new Date(t).toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z');
const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '   -  ' : v.toFixed(3).padStart(6));

interface PromotionLine { model: string; decision: string; from_version: string; to_version: string; at: number; n: number }

async function readJsonl<T>(path: string): Promise<T[]> {
  return (await readFile(path, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
}

function figureRow(label: string, points: MetricPoint[]): string {
  const by = new Map(points.map((p) => [p.metric, p]));
  const n = by.get('roc_auc')?.count ?? by.get('log_loss')?.count ?? 0;
  return `    ${label.padEnd(30)} ${String(n).padStart(6)}  ${FIGURES.map((f) => fmt(by.get(f)?.value)).join('  ')}`;
}

export function formatDemo(
  summary: ReplaySummary, metrics: MetricPoint[], drift: DriftRecord[], promotions: PromotionLine[], files: string[], out: string,
): string {
  const lines: string[] = [];
  const header = `    ${''.padEnd(30)} ${'n'.padStart(6)}  ${['precision', 'recall', 'f1', 'logloss', 'rocauc'].map((h) => h.slice(0, 6).padStart(6)).join('  ')}`;
  for (const model of Object.keys(DEMO_COUNTS)) {
    const mine = metrics.filter((p) => p.model === model && p.segment === ALL_SEGMENTS);
    const champion = mine.find((p) => p.role === 'champion')?.model_version ?? '?';
    lines.push(`${model} (champion ${champion}; ${summary.by_model[model]?.labelled ?? 0} labelled)`, header);
    const days = [...new Set(mine.filter((p) => p.role === 'champion' && p.window === '1d').map((p) => p.window_start))].sort((a, b) => a - b);
    for (const day of days) {
      const tag = model === 'fraud-detector' ? (day < DEMO_CHANGE ? ' before' : ' after') : '';
      lines.push(figureRow(`champion ${iso(day).slice(0, 10)}${tag}`, mine.filter((p) => p.role === 'champion' && p.window === '1d' && p.window_start === day)));
    }
    lines.push(figureRow('champion, total', mine.filter((p) => p.role === 'champion' && p.window === 'total')));
    const challengers = mine.filter((p) => p.role === 'challenger' && p.window === 'total' && p.metric === 'log_loss' && p.value !== null);
    const best = challengers.sort((a, b) => a.value! - b.value!)[0];
    if (best) lines.push(figureRow(`best challenger ${best.model_version.replace(`${model}/`, '')}, total`, mine.filter((p) => p.role === 'challenger' && p.window === 'total' && p.model_version === best.model_version)));
    // The features' and the champion's alarms (a learning challenger's scores and errors move by design).
    const alarms = drift.filter((d) => d.model === model && d.detected && d.role !== 'challenger');
    if (alarms.length === 0) lines.push('  drift: no alarms');
    else {
      const counts = new Map<string, number>();
      for (const a of alarms) counts.set(`${a.statistic} ${a.feature}`, (counts.get(`${a.statistic} ${a.feature}`) ?? 0) + 1);
      const first = Math.min(...alarms.map((a) => a.window_end));
      lines.push(`  drift: ${alarms.length} alarms, first at ${iso(first)}: ${[...counts].map(([k, c]) => `${k} ×${c}`).join(', ')}`);
    }
    const decisions = promotions.filter((p) => p.model === model);
    if (decisions.length === 0) lines.push('  promotions: none');
    for (const d of decisions) lines.push(`  ${d.decision}: ${d.from_version} → ${d.to_version} at ${iso(d.at)} (n ${d.n})`);
    lines.push('');
  }
  lines.push(`concept change of fraud-detector at ${iso(DEMO_CHANGE)}`);
  lines.push(`joiner: ${summary.labelled} labelled, ${summary.corrections} corrections, ${summary.duplicates_ignored} duplicates, ${summary.uncertain} uncertain, ${summary.expired_unlabelled} expired unlabelled`);
  lines.push(`written to ${out}:`, `  ${files.join(' ')}`);
  lines.push(`report: ${summary.files.report}`);
  return lines.join('\n');
}

// ---- the run ----

export async function demo(options: DemoOptions = {}): Promise<DemoResult> {
  const out = options.out ?? './demo-out';
  const seed = options.seed ?? 7;
  const progress = options.progress === undefined ? process.stderr : options.progress;
  const started = Date.now();
  const elapsed = () => ((Date.now() - started) / 1000).toFixed(1);
  const say = (text: string) => progress?.write(`${text}\n`);

  say(`generating ${Object.values(DEMO_COUNTS).reduce((a, b) => a + b, 0)} predictions and their feedback (seed ${seed})…`);
  const { predictions, feedback } = generateDemo(seed);
  const input = join(out, 'input');
  await mkdir(input, { recursive: true });
  const jsonl = (rows: unknown[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');
  const inputs = { predictions: join(input, 'predictions.jsonl'), feedback: join(input, 'feedback.jsonl'), predictionCount: predictions.length, feedbackCount: feedback.length };
  await writeFile(inputs.predictions, jsonl(predictions));
  await writeFile(inputs.feedback, jsonl(feedback));

  say(`replaying ${predictions.length} predictions and ${feedback.length} feedback… (${elapsed()} s)`);
  const tty = progress?.isTTY === true;
  let shown = -1;
  const summary = await replay({
    predictions: inputs.predictions, feedback: inputs.feedback, out, config: demoConfig(),
    clock: new ManualClock(DEMO_START + (DEMO_DAYS + 1) * DAY),
    ...(tty ? {
      onProgress: (done: number, total: number) => {
        const pct = Math.floor((100 * done) / total);
        if (pct !== shown) progress?.write(`\r  ${(shown = pct)}%`);
      },
    } : {}),
  });
  if (tty) progress?.write('\r\x1b[K');
  say(`replayed in ${elapsed()} s`);

  const [metrics, drift, promotions] = await Promise.all([
    readJsonl<MetricPoint>(summary.files.metrics), readJsonl<DriftRecord>(summary.files.drift), readJsonl<PromotionLine>(summary.files.promotions),
  ]);
  const files = ['input/predictions.jsonl', 'input/feedback.jsonl', ...Object.values(summary.files).map((f) => f.slice(join(out, '/').length))];
  const report = formatDemo(summary, metrics, drift, promotions, files, out);
  return { summary, report, inputs, seconds: (Date.now() - started) / 1000 };
}

export async function commandDemo(options: { out?: string; seed?: string }): Promise<void> {
  const seed = options.seed === undefined ? undefined : Number(options.seed);
  if (seed !== undefined && !Number.isInteger(seed)) throw new ConfigError('--seed', `expected an integer, got ${options.seed}`);
  const result = await demo({ ...(options.out ? { out: options.out } : {}), ...(seed !== undefined ? { seed } : {}) });
  process.stdout.write(`${result.report}\n`);
}
