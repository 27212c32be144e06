/**
 * The replay benchmark's input: one binary model's predictions and their
 * feedback as JSONL files, seeded, the same on every machine.
 *
 * - Predictions: 4 numeric features, 1 categorical, 2 segment attributes
 *   (region, plan); the true label comes from a logistic of the features, the
 *   champion's score is a noisier view of it (so a challenger can beat it).
 * - Feedback: 85% of predictions get a label; its delay depends on the outcome
 *   (a positive, a chargeback, comes 1–4 days later; a negative within 10 min
 *   to 1 day), all inside the 7-day join window. The first label is a user's
 *   and wrong 10% of the time; 70% of those are corrected by an EXPERT_REVIEW
 *   1–24 h later with the true label (it outranks the user's, so the joiner
 *   emits a correction `#2`). The other 15% of predictions expire unlabelled.
 * - Both files are in timestamp order, which is how replay merges them.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { gaussian, mulberry32, type Random } from '../demo/random.js';

export const MODEL = 'fraud-detector';
const T0 = 1_763_942_400_000;
/** The default mean gap between predictions: 2,000,000 of them span 11.6 days. */
export const MEAN_GAP_MS = 500;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const COUNTRIES = ['DE', 'FR', 'US', 'BR', 'IN', 'JP'] as const;
const COUNTRY_EFFECT = [0, 0.2, -0.3, 0.8, 0.5, -0.6];
const REGIONS = ['eu', 'us', 'latam', 'apac'] as const;
const PLANS = ['free', 'pro', 'enterprise'] as const;

export interface StreamCounts {
  predictions: number;
  feedback: number;
  corrections: number;
  bytes: number;
}

interface PendingFeedback {
  timestamp: number;
  line: string;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const index = (rng: Random, n: number) => Math.floor(rng() * n);
const uniform = (rng: Random, lo: number, hi: number) => lo + rng() * (hi - lo);

/** Writes a line, waiting when the stream's buffer is full (2M predictions would not fit it). */
async function write(out: WriteStream, line: string): Promise<void> {
  if (!out.write(line)) await once(out, 'drain');
}

async function close(out: WriteStream): Promise<void> {
  out.end();
  await once(out, 'finish');
}

/** One prediction's line and what its feedback needs: the true label and the predicted class. */
function prediction(rng: Random, n: number, timestamp: number): { line: string; y: number } {
  const amount = Math.round(Math.exp(3 + 1.5 * gaussian(rng)) * 100) / 100;
  const age = index(rng, 2000);
  const hour = index(rng, 24);
  const items = 1 + index(rng, 10);
  const country = index(rng, COUNTRIES.length);
  const region = REGIONS[index(rng, REGIONS.length)]!;
  const plan = PLANS[index(rng, PLANS.length)]!;
  // The truth: large amounts, young accounts and night hours are risky.
  const z = -2.2 + 0.6 * Math.log1p(amount / 50) - age / 800 + (hour < 6 ? 0.7 : 0) + 0.05 * items + COUNTRY_EFFECT[country]!;
  const y = rng() < sigmoid(z) ? 1 : 0;
  // The champion sees the truth through noise (it was trained on older data).
  const score = sigmoid(0.6 * z + 0.8 * gaussian(rng) - 0.5);
  const event = {
    prediction_id: `p-${n.toString(36)}`, model: MODEL, model_version: 'v7', timestamp,
    features: { amount, account_age_days: age, hour, items }, categorical: { country: COUNTRIES[country]! },
    segments: { region, plan }, score, threshold: 0.5,
  };
  return { line: `${JSON.stringify(event)}\n`, y };
}

function feedbackLine(id: string, timestamp: number, type: string, label: number, source: string | null): string {
  return `${JSON.stringify({ prediction_id: id, timestamp, feedback_type: type, label, uncertain: false, source, notes: null })}\n`;
}

/** The feedback of one prediction (none, a label, or a label and its correction). */
function feedbackOf(rng: Random, id: string, t: number, y: number): PendingFeedback[] {
  if (rng() >= 0.85) return [];
  const delay = y === 1 ? uniform(rng, DAY, 4 * DAY) : uniform(rng, 10 * MINUTE, DAY);
  const first = Math.round(t + delay);
  const wrong = rng() < 0.1;
  const out = [{ timestamp: first, line: feedbackLine(id, first, 'USER_CONFIRMED', wrong ? 1 - y : y, `user-${index(rng, 50)}`) }];
  if (wrong && rng() < 0.7) {
    const later = Math.round(first + uniform(rng, HOUR, DAY));
    out.push({ timestamp: later, line: feedbackLine(id, later, 'EXPERT_REVIEW', y, 'expert') });
  }
  return out;
}

/**
 * Writes `predictions` predictions and their feedback to the two files,
 * one prediction every `meanGapMs` on average (exponential gaps: the stream
 * spans about predictions × meanGapMs). The feedback is held until the end
 * and sorted by timestamp (a stable sort: generation order on ties), about
 * 200 B a line.
 */
export async function writeReplayStream(predictionsPath: string, feedbackPath: string, predictions: number, seed: number, meanGapMs = MEAN_GAP_MS): Promise<StreamCounts> {
  const rng = mulberry32(seed);
  const out = createWriteStream(predictionsPath);
  const pending: PendingFeedback[] = [];
  let bytes = 0;
  let time = T0;
  for (let n = 0; n < predictions; n++) {
    time += -Math.log(1 - rng()) * meanGapMs;
    const t = Math.round(time);
    const p = prediction(rng, n, t);
    bytes += p.line.length;
    await write(out, p.line);
    for (const f of feedbackOf(rng, `p-${n.toString(36)}`, t, p.y)) pending.push(f);
  }
  await close(out);
  pending.sort((a, b) => a.timestamp - b.timestamp);
  const fb = createWriteStream(feedbackPath);
  let corrections = 0;
  for (const f of pending) {
    bytes += f.line.length;
    if (f.line.includes('EXPERT_REVIEW')) corrections++;
    await write(fb, f.line);
  }
  await close(fb);
  return { predictions, feedback: pending.length, corrections, bytes };
}

/** The replay's config: the one model with a logreg challenger, every processor at its defaults, fairness on both segment attributes. */
export function replayConfig(): string {
  return [
    '# Written by bench/replay.ts: one binary model, one logistic-regression challenger.',
    'models:',
    `  ${MODEL}:`,
    '    task: binary',
    '    challengers: [logreg]',
    'joiner:',
    '  join_window: 7d',
    'evaluator:',
    '  windows: [1h, 1d]',
    '  fairness_attributes: [region, plan]',
    'log:',
    '  level: warn',
    '',
  ].join('\n');
}
