/**
 * Promotion under outcome-dependent label delay (issue 14): how often the
 * promotion policy promotes a challenger that is not better when positives'
 * labels come days after negatives' (goal: at most alpha), and what the
 * delay-aware test (promoter.maturity, core/promote/maturity.ts) costs in
 * power and labels to promotion, against today's test (maturity 0).
 *
 *   npm run bench:promotion-delay -- [--streams N] [--predictions N] [--seed N] [--json PATH]
 *
 * --streams N  streams per scenario (default 200); --predictions N  per
 * stream (default 30,000, one a minute: about 21 days); --seed N  base seed
 * (default 1); --json PATH (default out/bench/promotion-delay-sim.json).
 *
 * The world is promotion-sim.ts's (x ~ N(0, 1), true log-odds z = −1 + 1.5 x,
 * y ~ Bernoulli(sigmoid(z)), a model's score sigmoid(z + s·ε)), with label
 * delays that depend on the outcome: a positive's label comes 1 to 4 days
 * after its prediction (uniform), a negative's within the hour (uniform 0 to
 * 60 minutes); every label comes (no expiry). The examples are fed to the
 * policy in label-arrival order (sorted by feedback time), as the promoter
 * reads them from labelled-examples, until the first PROMOTE.
 *
 * Scenarios (the loss gaps printed are measured on 200,000 examples, overall
 * and on each class: a harmful challenger is worse overall and better on the
 * negatives, whose labels come first):
 *  - null: equal (both noise 1), worse (challenger noise 1.2);
 *  - harmful: the champion is the true model, the challenger sharpens every
 *    score below 0.5 by δ on the log-odds (δ = 0.5, 1); a noisy champion
 *    (0.5) against the same noise sharpened by δ = 0.7. Sharpening below the
 *    threshold leaves recall at 0.5 unchanged, so the recall guardrail does
 *    not see it;
 *  - better: AUC +0.01, +0.02, +0.05 (challenger noise 0.88, 0.76, 0.3).
 * Two tests, each with every other default (alpha 0.05, 500 paired examples,
 * guardrails on): today's (maturity 0) and the delay-aware one with a
 * horizon of 5 days (at least every label's delay).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LabelledExample } from '../core/events.js';
import { PromotionPolicy, type PolicyOptions } from '../core/promote/index.js';
import { mulberry32 } from '../demo/random.js';
import { numberOption } from './options.js';
import { printTable } from './table.js';
import { clopperPearson, median, noisy, promotionStream, rocAuc, sigmoid, type SimulatedScorer } from './promotion-sim.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The delay-aware test's horizon in this world: at least the longest label delay. */
export const HORIZON_MS = 5 * DAY;

/** A positive's label comes 1 to 4 days late, a negative's within the hour (uniform). */
export function outcomeDelay(label: number, random: () => number): number {
  return label === 1 ? DAY + Math.floor(random() * 3 * DAY) : Math.floor(random() * HOUR);
}

/** sigmoid(z + sd·ε), every score below 0.5 pushed further down by `by` on the log-odds. */
export const sharpenedBelowHalf =
  (sd: number, by: number): SimulatedScorer =>
  (logit, _index, normal) => {
    const z = logit + (sd === 0 ? 0 : sd * normal());
    return sigmoid(z < 0 ? z - by : z);
  };

export interface DelayedStreamOptions {
  seed: number;
  predictions: number;
  champion: SimulatedScorer;
  challenger: SimulatedScorer;
}

/**
 * A seeded stream of labelled examples (one prediction a minute, model `fraud`, challenger
 * `fraud/challenger@n`) with outcome-dependent label delays, in label-arrival order.
 */
export function delayedStream(o: DelayedStreamOptions): LabelledExample[] {
  const random = mulberry32(o.seed ^ 0x5bd1e995);
  const out: LabelledExample[] = [];
  for (const x of promotionStream({ seed: o.seed, examples: o.predictions, champion: o.champion, challengers: { challenger: o.challenger } })) {
    const delay = outcomeDelay(x.label!, random);
    out.push({ ...x, feedback_timestamp: x.timestamp + delay, label_delay_ms: delay });
  }
  return out.sort((a, b) => a.feedback_timestamp! - b.feedback_timestamp! || a.timestamp - b.timestamp);
}

// ---------------------------------------------------------------- the simulation

type Kind = 'null' | 'harmful' | 'better';

interface Scenario {
  name: string;
  kind: Kind;
  champion: SimulatedScorer;
  challenger: SimulatedScorer;
}

const SCENARIOS: Scenario[] = [
  { name: 'equal', kind: 'null', champion: noisy(1), challenger: noisy(1) },
  { name: 'worse', kind: 'null', champion: noisy(1), challenger: noisy(1.2) },
  { name: 'true champion, sharpened 0.5', kind: 'harmful', champion: noisy(0), challenger: sharpenedBelowHalf(0, 0.5) },
  { name: 'true champion, sharpened 1', kind: 'harmful', champion: noisy(0), challenger: sharpenedBelowHalf(0, 1) },
  { name: 'noise 0.5, sharpened 0.7', kind: 'harmful', champion: noisy(0.5), challenger: sharpenedBelowHalf(0.5, 0.7) },
  { name: 'AUC +0.01', kind: 'better', champion: noisy(1), challenger: noisy(0.88) },
  { name: 'AUC +0.02', kind: 'better', champion: noisy(1), challenger: noisy(0.76) },
  { name: 'AUC +0.05', kind: 'better', champion: noisy(1), challenger: noisy(0.3) },
];

const TESTS: Array<{ name: string; options: Partial<PolicyOptions> }> = [
  { name: 'today (maturity 0)', options: {} },
  { name: 'delay-aware (maturity 5d)', options: { maturityMs: HORIZON_MS } },
];

interface Measured {
  championAuc: number;
  challengerAuc: number;
  /** Mean log loss difference champion − challenger (positive: the challenger is better): overall, on negatives, on positives. */
  gap: number;
  gapNegatives: number;
  gapPositives: number;
}

/** AUCs and log-loss gaps of a scenario on a pooled sample. */
function measure(s: Scenario, n: number, seed: number): Measured {
  const champion = new Float64Array(n);
  const challenger = new Float64Array(n);
  const labels = new Uint8Array(n);
  const sums = [0, 0];
  const counts = [0, 0];
  const ll = (y: number, p: number) => -Math.log(y === 1 ? Math.max(p, 1e-15) : Math.max(1 - p, 1e-15));
  let k = 0;
  for (const x of promotionStream({ seed, examples: n, champion: s.champion, challengers: { c: s.challenger } })) {
    const c = Object.values(x.shadow_scores)[0]!;
    const y = x.label!;
    champion[k] = x.score;
    challenger[k] = c;
    labels[k++] = y;
    sums[y]! += ll(y, x.score) - ll(y, c);
    counts[y]!++;
  }
  return {
    championAuc: rocAuc(champion, labels),
    challengerAuc: rocAuc(challenger, labels),
    gap: (sums[0]! + sums[1]!) / n,
    gapNegatives: sums[0]! / counts[0]!,
    gapPositives: sums[1]! / counts[1]!,
  };
}

interface Outcome {
  /** Labels the policy had read at the PROMOTE. */
  labels: number;
  /** Paired examples in the test at the PROMOTE (matured ones for the delay-aware test). */
  n: number;
  /** Event time from the first prediction to the PROMOTE, days. */
  days: number;
}

function runStream(s: Scenario, seed: number, predictions: number, options: Partial<PolicyOptions>): Outcome | null {
  const policy = new PromotionPolicy('fraud', options);
  const examples = delayedStream({ seed, predictions, champion: s.champion, challenger: s.challenger });
  const start = examples.reduce((min, x) => Math.min(min, x.timestamp), Number.POSITIVE_INFINITY);
  for (const [i, x] of examples.entries()) {
    const promote = policy.observe(x).find((d) => d.decision === 'PROMOTE');
    if (promote !== undefined) return { labels: i + 1, n: promote.n, days: (promote.at - start) / DAY };
  }
  return null;
}

interface Row {
  scenario: string;
  kind: Kind;
  test: string;
  streams: number;
  promoted: number;
  rate: number;
  ci95: [number, number];
  median_labels: number | null;
  median_n: number | null;
  median_days: number | null;
}

function row(s: Scenario, test: string, streams: number, outcomes: Outcome[]): Row {
  const med = (f: (o: Outcome) => number) => median(outcomes.map(f));
  return {
    scenario: s.name, kind: s.kind, test, streams, promoted: outcomes.length, rate: outcomes.length / streams,
    ci95: clopperPearson(outcomes.length, streams), median_labels: med((o) => o.labels), median_n: med((o) => o.n), median_days: med((o) => o.days),
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const num = (x: number | null, digits = 0) => (x === null ? '-' : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));

function print(rows: Row[]): void {
  const cells = [['scenario', 'kind', 'test', 'promoted', 'rate', '95% CI (Clopper-Pearson)', 'median labels read', 'median n tested', 'median days']];
  for (const r of rows) {
    cells.push([r.scenario, r.kind, r.test, `${r.promoted} / ${r.streams}`, pct(r.rate), `[${pct(r.ci95[0])}, ${pct(r.ci95[1])}]`, num(r.median_labels), num(r.median_n), num(r.median_days, 1)]);
  }
  printTable(cells, 3);
}

/** The pooled false-promotion rate of a test over the null and harmful scenarios. */
function pooled(rows: Row[], test: string): { streams: number; promoted: number; rate: number; ci95: [number, number] } {
  const wrong = rows.filter((r) => r.test === test && r.kind !== 'better');
  const streams = wrong.reduce((sum, r) => sum + r.streams, 0);
  const promoted = wrong.reduce((sum, r) => sum + r.promoted, 0);
  return { streams, promoted, rate: promoted / streams, ci95: clopperPearson(promoted, streams) };
}

function main(): void {
  const streams = numberOption('streams', 200);
  const predictions = numberOption('predictions', 30_000);
  const seed = numberOption('seed', 1);
  const jsonPath = ((i) => (i >= 0 ? process.argv[i + 1] : undefined))(process.argv.indexOf('--json')) ?? 'out/bench/promotion-delay-sim.json';
  const started = Date.now();
  console.log(`command: node ${process.execArgv.join(' ')} ${process.argv.slice(1).map((a) => a.replace(process.cwd() + '/', '')).join(' ')}`);
  console.log('scenarios (200,000 examples each; gap = mean log loss champion − challenger, positive: the challenger is better):');
  const measured = SCENARIOS.map((s, index) => {
    const m = measure(s, 200_000, seed + 7 * (index + 1));
    console.log(
      `  ${s.name.padEnd(30)} ${s.kind.padEnd(7)} AUC ${m.championAuc.toFixed(4)} → ${m.challengerAuc.toFixed(4)}, ` +
        `gap ${m.gap.toFixed(4)} (negatives ${m.gapNegatives.toFixed(4)}, positives ${m.gapPositives.toFixed(4)})`,
    );
    return { scenario: s.name, kind: s.kind, ...m };
  });
  for (const t of TESTS) console.log(`${t.name}: ${new PromotionPolicy('fraud', t.options).policy}`);
  console.log(`\n${streams} streams of ${predictions.toLocaleString('en-US')} predictions per scenario, fed in label-arrival order:`);
  const rows: Row[] = [];
  for (const [index, s] of SCENARIOS.entries()) {
    for (const t of TESTS) {
      const outcomes: Outcome[] = [];
      for (let k = 0; k < streams; k++) {
        const o = runStream(s, seed + 1_000_003 * (index + 1) + k, predictions, t.options);
        if (o !== null) outcomes.push(o);
      }
      rows.push(row(s, t.name, streams, outcomes));
    }
  }
  print(rows);
  const summary = TESTS.map((t) => ({ test: t.name, ...pooled(rows, t.name) }));
  for (const p of summary) {
    console.log(`${p.test}: false promotions over the null and harmful streams ${p.promoted} / ${p.streams} = ${pct(p.rate)} [${pct(p.ci95[0])}, ${pct(p.ci95[1])}] (goal ≤ 5%)`);
  }
  console.log('rate for the better scenarios = power within the stream; labels read = labelled examples the policy had read at the PROMOTE; n = paired examples in its test.');
  const seconds = (Date.now() - started) / 1000;
  console.log(`\n${seconds.toFixed(1)} s`);
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify({ streams, predictions, seed, horizon_ms: HORIZON_MS, measured, rows, summary, seconds }, null, 2)}\n`);
  console.log(`wrote ${jsonPath}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
