/**
 * Promotion simulation (issue 6): how often the promotion policy promotes a
 * challenger that is not better (goal: at most alpha), and how fast it
 * promotes one that is (power and labels to promotion), on seeded streams.
 *
 *   node --import tsx bench/promotion-sim.ts [--streams N] [--labels N] [--seed N]
 *
 * --streams N  streams per scenario (default 200); --labels N  labels per
 * stream (default 20,000); --seed N  base seed (default 1).
 *
 * The generative model: a feature x ~ N(0, 1), the true log-odds
 * z = -1 + 1.5 x, the label y ~ Bernoulli(sigmoid(z)) (about a third
 * positive). A model's score is sigmoid(z + s·ε) with its own noise
 * ε ~ N(0, 1) of size s: more noise, lower AUC and higher expected log loss.
 * The champion has s = 1 (AUC about 0.76). Scenarios:
 *  - null (the challenger is not better): equal noise (s = 1), worse (s = 1.2);
 *  - better, by an AUC gain of about +0.01 (s = 0.88), +0.02 (s = 0.76) and
 *    +0.05 (s = 0.3); the AUCs and mean log losses printed are measured on a
 *    pooled sample of 200,000 examples per scenario.
 * Each stream is fed to a fresh PromotionPolicy (a binary model, log loss,
 * every default: alpha 0.05, 500 paired examples at least, guardrails on)
 * until its first PROMOTE or the end of the stream; a second table repeats
 * the run with the guardrails off (the sequential test alone). Examples are
 * one minute apart in event time; the challenger's snapshot changes every
 * 500 examples (it is followed by its identity).
 *
 * Also exports the stream generator, for the promoter's unit tests.
 */
import { pathToFileURL } from 'node:url';
import { type LabelledExample, noExampleClasses } from '../core/events.js';
import { PromotionPolicy, type PolicyOptions } from '../core/promote/index.js';
import { mulberry32 } from '../demo/random.js';
import { numberOption } from './options.js';
import { printTable } from './table.js';

export const T0 = 1_763_942_400_000;

/** A model's score for one example, given the true log-odds, the example's index and a N(0, 1) source. */
export type SimulatedScorer = (logit: number, index: number, normal: () => number) => number;
/** A challenger's score, or null when it has none on the example (it does not exist yet). */
export type SimulatedChallenger = (logit: number, index: number, normal: () => number) => number | null;

export const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** sigmoid(z + sd·ε): the true model seen through noise of size sd on the log-odds. */
export const noisy =
  (sd: number): SimulatedScorer =>
  (logit, _index, normal) =>
    sigmoid(logit + sd * normal());

export interface PromotionStreamOptions {
  seed: number;
  examples: number;
  /** Default `fraud`. */
  model?: string;
  /** Upstream's model_version. Default `v1`. */
  championVersion?: string;
  /** True log-odds z = intercept + slope·x. Defaults -1 and 1.5. */
  intercept?: number;
  slope?: number;
  /** Upstream's score (the prediction's `score`). */
  champion: SimulatedScorer;
  /** Challenger name -> its shadow score, under the key `<model>/<name>@<n>`. */
  challengers: Record<string, SimulatedChallenger>;
  /** A challenger's snapshot number moves every this many examples. Default 500. */
  snapshotEvery?: number;
  /** Event time of the first example and the gap between examples. Defaults T0 and 1 minute. */
  startMs?: number;
  gapMs?: number;
}

/** A seeded stream of labelled examples, lazily (scorers may look at state that changes while it is read). */
export function* promotionStream(o: PromotionStreamOptions): Generator<LabelledExample> {
  const random = mulberry32(o.seed);
  let spare: number | null = null;
  const normal = (): number => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u = Math.max(random(), 1e-300);
    const v = random();
    const m = Math.sqrt(-2 * Math.log(u));
    spare = m * Math.sin(2 * Math.PI * v);
    return m * Math.cos(2 * Math.PI * v);
  };
  const model = o.model ?? 'fraud';
  const intercept = o.intercept ?? -1;
  const slope = o.slope ?? 1.5;
  const every = o.snapshotEvery ?? 500;
  const start = o.startMs ?? T0;
  const gap = o.gapMs ?? 60_000;
  const names = Object.keys(o.challengers).sort();
  for (let i = 0; i < o.examples; i++) {
    const x = normal();
    const logit = intercept + slope * x;
    const label = random() < sigmoid(logit) ? 1 : 0;
    const score = o.champion(logit, i, normal);
    const shadow: Record<string, number> = {};
    for (const name of names) {
      const value = o.challengers[name]!(logit, i, normal);
      if (value !== null) shadow[`${model}/${name}@${1 + Math.floor(i / every)}`] = value;
    }
    const timestamp = start + i * gap;
    yield {
      example_id: `${model}-${i}#1`, prediction_id: `${model}-${i}`, model, model_version: o.championVersion ?? 'v1', timestamp,
      features: { x }, categorical: {}, segments: {}, score, threshold: 0.5, label, feedback_type: 'AUTO_VALIDATED', source: null,
      feedback_timestamp: timestamp, label_delay_ms: 0, correction_of: null, shadow_scores: shadow, replaces: null, arrival: false,
      ...noExampleClasses(),
    };
  }
}

// ---------------------------------------------------------------- the simulation

interface Scenario {
  name: string;
  /** The challenger's noise (the champion's is 1). */
  noise: number;
  better: boolean;
}

const SCENARIOS: Scenario[] = [
  { name: 'equal', noise: 1, better: false },
  { name: 'worse', noise: 1.2, better: false },
  { name: 'AUC +0.01', noise: 0.88, better: true },
  { name: 'AUC +0.02', noise: 0.76, better: true },
  { name: 'AUC +0.05', noise: 0.3, better: true },
];

/** ROC AUC of scores against labels (ties one half). */
export function rocAuc(scores: Float64Array, labels: Uint8Array): number {
  const order = Array.from(scores.keys()).sort((a, b) => scores[a]! - scores[b]!);
  let negatives = 0;
  let positives = 0;
  let area = 0;
  for (let k = 0; k < order.length; ) {
    let pos = 0;
    let neg = 0;
    const s = scores[order[k]!]!;
    for (; k < order.length && scores[order[k]!] === s; k++) {
      if (labels[order[k]!] === 1) pos++;
      else neg++;
    }
    area += pos * negatives + 0.5 * pos * neg;
    positives += pos;
    negatives += neg;
  }
  return area / (positives * negatives);
}

/** Measured AUC and mean log loss of champion and challenger on a pooled sample. */
function calibrate(s: Scenario, n: number, seed: number) {
  const champion = new Float64Array(n);
  const challenger = new Float64Array(n);
  const labels = new Uint8Array(n);
  let k = 0;
  let championLoss = 0;
  let challengerLoss = 0;
  const ll = (y: number, p: number) => -Math.log(y === 1 ? Math.max(p, 1e-15) : Math.max(1 - p, 1e-15));
  for (const x of promotionStream({ seed, examples: n, champion: noisy(1), challengers: { c: noisy(s.noise) } })) {
    const c = Object.values(x.shadow_scores)[0]!;
    champion[k] = x.score;
    challenger[k] = c;
    labels[k] = x.label!;
    championLoss += ll(x.label!, x.score);
    challengerLoss += ll(x.label!, c);
    k++;
  }
  return { championAuc: rocAuc(champion, labels), challengerAuc: rocAuc(challenger, labels), championLoss: championLoss / n, challengerLoss: challengerLoss / n };
}

/** Labels until the first PROMOTE, or null when none within the stream. */
function runStream(s: Scenario, seed: number, labels: number, options: Partial<PolicyOptions>): number | null {
  const policy = new PromotionPolicy('fraud', options);
  let i = 0;
  for (const x of promotionStream({ seed, examples: labels, champion: noisy(1), challengers: { challenger: noisy(s.noise) } })) {
    i++;
    if (policy.observe(x).some((d) => d.decision === 'PROMOTE')) return i;
  }
  return null;
}

/** P(X ≤ k) for X ~ Binomial(n, p). */
function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  if (p <= 0) return 1;
  if (p >= 1) return 0;
  let logPmf = n * Math.log(1 - p); // P(X = 0)
  let sum = Math.exp(logPmf);
  for (let j = 1; j <= k; j++) {
    logPmf += Math.log((n - j + 1) / j) + Math.log(p / (1 - p));
    sum += Math.exp(logPmf);
  }
  return Math.min(1, sum);
}

/** The Clopper-Pearson (exact) 95% interval of a binomial proportion k / n. */
export function clopperPearson(k: number, n: number, level = 0.95): [number, number] {
  const tail = (1 - level) / 2;
  const solve = (f: (p: number) => number) => {
    let lo = 0;
    let hi = 1;
    for (let it = 0; it < 100; it++) {
      const mid = (lo + hi) / 2;
      if (f(mid) > 0) lo = mid;
      else hi = mid;
    }
    return (lo + hi) / 2;
  };
  // lower: P(X >= k | p) = tail; upper: P(X <= k | p) = tail.
  const lower = k === 0 ? 0 : solve((p) => tail - (1 - binomialCdf(k - 1, n, p)));
  const upper = k === n ? 1 : solve((p) => binomialCdf(k, n, p) - tail);
  return [lower, upper];
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function table(title: string, streams: number, labels: number, baseSeed: number, options: Partial<PolicyOptions>, alpha: number): void {
  console.log(`\n${title}`);
  const results = SCENARIOS.map((s, index) => {
    const hits: number[] = [];
    for (let k = 0; k < streams; k++) {
      const at = runStream(s, baseSeed + 1_000_003 * (index + 1) + k, labels, options);
      if (at !== null) hits.push(at);
    }
    return { s, hits };
  });
  const nulls = results.filter((r) => !r.s.better);
  const falseCount = nulls.reduce((sum, r) => sum + r.hits.length, 0);
  const nullStreams = nulls.length * streams;
  const rows: string[][] = [['scenario', 'streams', 'promoted', 'rate', '95% interval (Clopper-Pearson)', 'median labels', 'p90 labels']];
  for (const { s, hits } of results) {
    const [lo, hi] = clopperPearson(hits.length, streams);
    const sorted = [...hits].sort((a, b) => a - b);
    const p90 = sorted.length > 0 ? sorted[Math.min(sorted.length - 1, Math.ceil(0.9 * sorted.length) - 1)]! : null;
    rows.push([s.name, String(streams), String(hits.length), pct(hits.length / streams), `[${pct(lo)}, ${pct(hi)}]`, String(median(hits) ?? '-'), String(p90 ?? '-')]);
  }
  const [lo, hi] = clopperPearson(falseCount, nullStreams);
  rows.push([
    'null (equal+worse): false promotions', String(nullStreams), String(falseCount), pct(falseCount / nullStreams),
    `[${pct(lo)}, ${pct(hi)}]`, `goal ≤ ${pct(alpha)}`, '',
  ]);
  printTable(rows, 1);
  console.log(`rate for the better scenarios = power: share promoted within ${labels.toLocaleString('en-US')} labels; labels = labelled examples until the PROMOTE.`);
}

function main(): void {

  const streams = numberOption('streams', 200);
  const labels = numberOption('labels', 20_000);
  const seed = numberOption('seed', 1);
  const started = Date.now();
  console.log(`command: node ${process.execArgv.join(' ')} ${process.argv.slice(1).map((a) => a.replace(process.cwd() + '/', '')).join(' ')}`);
  console.log('scenarios (measured on 200,000 examples each; champion noise 1):');
  for (const [index, s] of SCENARIOS.entries()) {
    const m = calibrate(s, 200_000, seed + 7 * (index + 1));
    console.log(
      `  ${s.name.padEnd(10)} challenger noise ${String(s.noise).padEnd(4)} AUC ${m.championAuc.toFixed(4)} → ${m.challengerAuc.toFixed(4)} ` +
        `(${(m.challengerAuc - m.championAuc >= 0 ? '+' : '') + (m.challengerAuc - m.championAuc).toFixed(4)}), ` +
        `log loss ${m.championLoss.toFixed(4)} → ${m.challengerLoss.toFixed(4)} (gap ${(m.championLoss - m.challengerLoss).toFixed(4)})`,
    );
  }
  const defaults = new PromotionPolicy('fraud');
  console.log(`policy: ${defaults.policy}`);
  table('1. default policy (guardrails on)', streams, labels, seed, {}, defaults.options.alpha);
  table('2. the sequential test alone (guardrails off)', streams, labels, seed, { maxRecallDrop: Infinity, maxEce: Infinity }, defaults.options.alpha);
  console.log(`\n${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
