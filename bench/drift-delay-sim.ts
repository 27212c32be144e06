/**
 * Error-rate drift detectors under outcome-dependent label delay (issue 14):
 * false alarms of ADWIN, Page-Hinkley and DDM on a model that does not
 * change, when positives' labels come days after negatives', with the
 * detectors fed per label in arrival order (evaluator.drift_detector_order
 * `arrival`, the old behaviour) and per matured window (`matured`, the
 * default); and how late each finds a real change.
 *
 *   npm run bench:drift-delay -- [--streams N] [--days N] [--seed N] [--json PATH]
 *
 * --streams N  streams per scenario (default 20); --days N  days of
 * predictions per stream, one a minute (default 30); --seed N  base seed
 * (default 1); --json PATH (default out/bench/drift-delay-sim.json).
 *
 * The world is promotion-delay-sim.ts's: x ~ N(0, 1), y ~ Bernoulli(sigmoid(−1 + 1.5 x)),
 * a positive's label 1 to 4 days after its prediction, a negative's within
 * the hour; every label comes. The champion is the true model (its score is
 * the true probability), the challenger (a shadow score) the true log-odds
 * with N(0, 1) noise. Scenarios:
 *  - stationary: nothing changes; every alarm is false;
 *  - degraded: from day 10 on the champion's log-odds get N(0, 2²) noise
 *    (its error rate rises, the labels' distribution does not change).
 * The stationary streams also run undelayed (every label at its
 * prediction's time, in prediction order) in arrival order: the detectors'
 * own false-alarm rate at River's defaults, the floor either order can reach.
 * Each stream goes through the whole core Evaluator (core/evaluate, join
 * window 5 days, every other evaluator default) in label-arrival order,
 * once per detector order. Counted: alarms (detected drift records of
 * feature `error`) per detector and role; on the degraded streams, for
 * the champion, the first alarm about predictions made after the change
 * and when it was known: arrival order, at its label's time; matured
 * order, when its window matured (window end + join window). PSI/KS alarms
 * (inputs and scores) are printed for reference: they read labelled
 * examples in arrival order in both runs and move to prediction records
 * with the joiner's arrival records (issue 14), not here.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_EVALUATOR_OPTIONS, Evaluator, type DetectorOrder, type DriftRecord, type EvaluatorOptions } from '../core/evaluate/index.js';
import type { LabelledExample } from '../core/events.js';
import { numberOption } from './options.js';
import { HORIZON_MS, delayedStream } from './promotion-delay-sim.js';
import { T0, noisy, sigmoid, type SimulatedScorer } from './promotion-sim.js';
import { printTable } from './table.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The join window of the simulated pipeline: every label's delay (at most 4 days) fits in it. */
export const JOIN_WINDOW_MS = HORIZON_MS;
export const CHANGE_DAY = 10;
export const ORDERS: DetectorOrder[] = ['arrival', 'matured'];
const DETECTORS = ['adwin', 'page_hinkley', 'ddm'];
const ROLES = ['champion', 'challenger'];

/** The true probability, until `changeAt` (an example index); from there on the log-odds get N(0, sd²) noise. */
export const degradedAt =
  (changeAt: number, sd: number): SimulatedScorer =>
  (logit, index, normal) => {
    const noise = normal();
    return sigmoid(logit + (index >= changeAt ? sd * noise : 0));
  };

export interface DriftDelayStreamOptions {
  seed: number;
  days: number;
  /** The day from which the champion degrades; null: stationary. */
  changeDay: number | null;
}

/** A seeded stream (one prediction a minute from T0), in label-arrival order, with outcome-dependent delays. */
export function driftDelayStream(o: DriftDelayStreamOptions): LabelledExample[] {
  const predictions = o.days * 24 * 60;
  const champion = o.changeDay === null ? degradedAt(Number.POSITIVE_INFINITY, 0) : degradedAt(o.changeDay * 24 * 60, 2);
  return delayedStream({ seed: o.seed, predictions, champion, challenger: noisy(1) });
}

/** The evaluator's drift defaults (core/evaluate/options.ts). */
const DEFAULT_DRIFT: EvaluatorOptions['drift'] = { ...DEFAULT_EVALUATOR_OPTIONS.drift, referenceSize: 1000, windowSize: 1000, bins: 10, psiThreshold: 0.2, ksAlpha: 0.01, detectors: true, detectorOrder: 'matured' };

/** The evaluator options of the simulation under a detector order. */
export function simulationOptions(order: DetectorOrder): Partial<EvaluatorOptions> {
  return { joinWindowMs: JOIN_WINDOW_MS, segments: false, drift: { ...DEFAULT_DRIFT, detectorOrder: order } };
}

/** The detected drift records of a stream through a fresh Evaluator (drained every 1,000 examples, as a processor's flushes). */
export function runEvaluator(examples: LabelledExample[], order: DetectorOrder): DriftRecord[] {
  const evaluator = new Evaluator(simulationOptions(order));
  const out: DriftRecord[] = [];
  const keep = (drift: DriftRecord[]) => {
    for (const d of drift) if (d.detected) out.push(d);
  };
  examples.forEach((x, i) => {
    evaluator.onExample(x);
    if (i % 1000 === 999) keep(evaluator.drain().drift);
  });
  keep(evaluator.finish().drift);
  return out;
}

/** When an error alarm was known: arrival order at its label's time; matured order when its window matured. */
export function knownAt(d: DriftRecord, order: DetectorOrder): number {
  return order === 'matured' ? d.window_end + JOIN_WINDOW_MS : d.at;
}

interface Detection {
  /** Hours from the change to the first champion alarm about post-change predictions being known; null: none. */
  hours: number | null;
  /** Hours from the change to the start of the window (matured) or prediction (arrival) it is about. */
  aboutHours: number | null;
}

function detection(records: DriftRecord[], order: DetectorOrder, statistic: string, change: number): Detection {
  const first = records.find((d) => d.feature === 'error' && d.role === 'champion' && d.statistic === statistic && d.window_start >= change);
  if (first === undefined) return { hours: null, aboutHours: null };
  return { hours: (knownAt(first, order) - change) / HOUR, aboutHours: (first.window_start - change) / HOUR };
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = xs.slice().sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface FalseAlarmRow {
  run: string;
  order: DetectorOrder;
  delayed: boolean;
  /** detector -> role -> alarms over all stationary streams. */
  alarms: Record<string, Record<string, number>>;
  /** Streams with at least one champion error alarm. */
  streamsWithAlarm: number;
  /** PSI/KS alarms on inputs and scores (for reference: not changed by the detector order). */
  distribution: number;
}

interface DetectionRow {
  order: DetectorOrder;
  detector: string;
  detected: number;
  streams: number;
  median_hours_known: number | null;
  median_hours_about: number | null;
  /** Champion alarms of this detector about predictions before the change (false). */
  before_change: number;
}

/** The same predictions and labels, each label at once (no delay): in prediction order. */
export function undelayed(examples: LabelledExample[]): LabelledExample[] {
  return examples.map((x) => ({ ...x, feedback_timestamp: x.timestamp, label_delay_ms: 0 })).sort((a, b) => a.timestamp - b.timestamp);
}

/** A run of the stationary streams: a detector order, on the delayed stream or (baseline) the undelayed one. */
const RUNS: Array<{ name: string; order: DetectorOrder; delayed: boolean }> = [
  { name: 'arrival, no delay (baseline)', order: 'arrival', delayed: false },
  { name: 'arrival', order: 'arrival', delayed: true },
  { name: 'matured', order: 'matured', delayed: true },
];

function falseAlarms(streams: number, days: number, seed: number): FalseAlarmRow[] {
  const rows = RUNS.map(({ name, order, delayed }) => ({
    run: name, order, delayed,
    alarms: Object.fromEntries(DETECTORS.map((d) => [d, Object.fromEntries(ROLES.map((r) => [r, 0]))])) as Record<string, Record<string, number>>, streamsWithAlarm: 0, distribution: 0,
  }));
  for (let k = 0; k < streams; k++) {
    const examples = driftDelayStream({ seed: seed + k, days, changeDay: null });
    const baseline = undelayed(examples);
    for (const row of rows) {
      const records = runEvaluator(row.delayed ? examples : baseline, row.order);
      let champion = 0;
      for (const d of records) {
        if (d.feature !== 'error') row.distribution++;
        else {
          row.alarms[d.statistic]![d.role]!++;
          if (d.role === 'champion') champion++;
        }
      }
      if (champion > 0) row.streamsWithAlarm++;
    }
  }
  return rows;
}

function detections(streams: number, days: number, seed: number): DetectionRow[] {
  const change = T0 + CHANGE_DAY * DAY;
  const found = new Map<string, { hours: number[]; about: number[]; before: number }>();
  const key = (order: string, detector: string) => `${order} ${detector}`;
  for (let k = 0; k < streams; k++) {
    const examples = driftDelayStream({ seed: 10_000 + seed + k, days, changeDay: CHANGE_DAY });
    for (const order of ORDERS) {
      const records = runEvaluator(examples, order);
      for (const detector of DETECTORS) {
        let f = found.get(key(order, detector));
        if (!f) found.set(key(order, detector), (f = { hours: [], about: [], before: 0 }));
        const d = detection(records, order, detector, change);
        if (d.hours !== null) {
          f.hours.push(d.hours);
          f.about.push(d.aboutHours!);
        }
        f.before += records.filter((r) => r.feature === 'error' && r.role === 'champion' && r.statistic === detector && r.window_start < change).length;
      }
    }
  }
  return ORDERS.flatMap((order) =>
    DETECTORS.map((detector) => {
      const f = found.get(key(order, detector))!;
      return { order, detector, detected: f.hours.length, streams, median_hours_known: median(f.hours), median_hours_about: median(f.about), before_change: f.before };
    }),
  );
}

const num = (x: number | null, digits = 1) => (x === null ? '-' : x.toFixed(digits));

function main(): void {
  const streams = numberOption('streams', 20);
  const days = numberOption('days', 30);
  const seed = numberOption('seed', 1);
  const jsonPath = ((i) => (i >= 0 ? process.argv[i + 1] : undefined))(process.argv.indexOf('--json')) ?? 'out/bench/drift-delay-sim.json';
  const started = Date.now();
  console.log(`command: node ${process.execArgv.join(' ')} ${process.argv.slice(1).map((a) => a.replace(process.cwd() + '/', '')).join(' ')}`);
  console.log(`${streams} streams of ${days} days (one prediction a minute), join window ${JOIN_WINDOW_MS / DAY} days, windows 1h and 1d (matured order: 1h)\n`);

  const stationary = falseAlarms(streams, days, seed);
  console.log('stationary streams (every alarm false): error-detector alarms over all streams, champion / challenger');
  const cells = [['run', ...DETECTORS, 'all', 'streams with a champion alarm', 'PSI/KS alarms (either order)']];
  for (const r of stationary) {
    const all = DETECTORS.reduce((sum, d) => sum + r.alarms[d]!.champion! + r.alarms[d]!.challenger!, 0);
    cells.push([r.run, ...DETECTORS.map((d) => `${r.alarms[d]!.champion} / ${r.alarms[d]!.challenger}`), String(all), `${r.streamsWithAlarm} / ${streams}`, String(r.distribution)]);
  }
  printTable(cells, 1);

  const degraded = detections(streams, days, seed);
  console.log(`\ndegraded streams (the champion's log-odds get N(0, 2²) noise from day ${CHANGE_DAY}): the champion's first alarm about predictions after the change`);
  const rows = [['order', 'detector', 'detected', 'median hours to known', 'median hours to the window/prediction it names', 'false alarms before the change']];
  for (const r of degraded) rows.push([r.order, r.detector, `${r.detected} / ${r.streams}`, num(r.median_hours_known), num(r.median_hours_about), String(r.before_change)]);
  printTable(rows, 2);
  console.log('known: arrival order at the label that raised it; matured order when its window matured (its end + the join window).');

  const seconds = (Date.now() - started) / 1000;
  console.log(`\n${seconds.toFixed(1)} s`);
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify({ streams, days, seed, join_window_ms: JOIN_WINDOW_MS, change_day: CHANGE_DAY, stationary, degraded, seconds }, null, 2)}\n`);
  console.log(`wrote ${jsonPath}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
