/**
 * Checkpoints of the evaluator's parts, class by class: each restored from
 * its state (through V8 serialization) at a random point of a random stream
 * of operations goes on exactly as the original (test/support/resume.ts);
 * a state that does not fit the settings is refused, naming the setting.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ADWIN, DDM, ScaledAdwin, PageHinkley } from '../../core/drift/index.js';
import { StateMismatchError } from '../../core/errors.js';
import { Cell, newCell, type Observation } from '../../core/evaluate/cells.js';
import { DistributionMonitor } from '../../core/evaluate/distribution-monitor.js';
import { FeedbackStats } from '../../core/evaluate/feedback.js';
import { ModelDrift } from '../../core/evaluate/model-drift.js';
import { DEFAULT_EVALUATOR_OPTIONS, type EvaluatorOptions } from '../../core/evaluate/options.js';
import { rollingPoints, windowPoints } from '../../core/evaluate/points.js';
import type { LabelledExample } from '../../core/events.js';
import { FirstSeen } from '../../core/limits.js';
import { BinaryMetrics, QuantileSketch, RegressionMetrics, Rolling, type BinaryMetricsState, type BinaryObservation, type QuantileSketchState } from '../../core/metrics/index.js';
import { expectResumes, throughV8 } from '../support/resume.js';
import { runs } from '../support/properties.js';

/** An operation: add the observation, or (revert) take back the one added `pick` additions ago, if any. */
interface Step {
  revert: boolean;
  pick: number;
  label: number;
  score: number;
  weight: number;
}

const step: fc.Arbitrary<Step> = fc.record({
  revert: fc.boolean(),
  pick: fc.nat(),
  label: fc.constantFrom(0, 1),
  // Few distinct scores, so exact counts repeat, and many, so they switch to bins.
  score: fc.oneof(fc.constantFrom(0, 0.25, 0.5, 1, -0), fc.double({ min: 0, max: 1, noNaN: true })),
  weight: fc.constantFrom(1, 1, 2, 0.5),
});
const steps = fc.tuple(fc.array(step, { maxLength: 120 }), fc.nat(130));

/** A metric and the observations added to it and not reverted (test bookkeeping, carried along with its state). */
interface Tracked<M, S> {
  metric: M;
  added: BinaryObservation[];
  state?: S;
}

/** Checkpoints of a revertible metric under steps: a revert takes back one of the observations still added. */
function metricResumes<M extends { update(o: BinaryObservation): void; revert(o: BinaryObservation): void; toState(): S }, S>(
  fresh: () => M, fromState: (state: S) => M, get: (m: M) => unknown,
) {
  return {
    fresh: (): Tracked<M, S> => ({ metric: fresh(), added: [] }),
    toState: (t: Tracked<M, S>) => ({ state: t.metric.toState(), added: t.added }),
    fromState: (s: { state: S; added: BinaryObservation[] }): Tracked<M, S> => ({ metric: fromState(s.state), added: s.added }),
    apply: ({ metric, added }: Tracked<M, S>, s: Step): unknown => {
      if (s.revert && added.length > 0) metric.revert(added.splice(s.pick % added.length, 1)[0]!);
      else {
        const o = { label: s.label, score: s.score, threshold: 0.5, weight: s.weight };
        metric.update(o);
        added.push(o);
      }
      return get(metric);
    },
  };
}

function mismatch(setting: string, restore: () => unknown): void {
  expect(restore).toThrowError(StateMismatchError);
  expect(restore).toThrowError(setting);
}

describe('checkpoints of the metrics', () => {
  it('BinaryMetrics (exact, then binned) resume exactly: figures and calibration', () => {
    const options = { maxDistinctScores: 6, scoreBins: 16 };
    const resumable = metricResumes(() => new BinaryMetrics(7, options), (s: BinaryMetricsState) => BinaryMetrics.fromState(s, 7, options), (m) => [m.get(), m.reliability()]);
    fc.assert(fc.property(steps, ([ops, k]) => expectResumes(resumable, ops, k)), runs(100));
  });

  it('RegressionMetrics resume exactly', () => {
    const resumable = metricResumes(() => new RegressionMetrics(), RegressionMetrics.fromState, (m) => m.get());
    fc.assert(fc.property(steps, ([ops, k]) => expectResumes(resumable, ops, k)), runs(100));
  });

  it('Rolling keeps its window in order and its metric: it slides on exactly as the original', () => {
    fc.assert(
      fc.property(steps, fc.integer({ min: 1, max: 12 }), ([ops, k], size) => {
        expectResumes({
          fresh: () => new Rolling(new BinaryMetrics(5, { maxDistinctScores: 4, scoreBins: 8 }), size),
          toState: (r) => r.toState((m) => m.toState()),
          fromState: (s) => Rolling.fromState(s, BinaryMetrics.fromState(s.metric, 5, { maxDistinctScores: 4, scoreBins: 8 }), size),
          apply: (r, s) => {
            r.update({ label: s.label, score: s.score, threshold: 0.5, weight: s.weight });
            return [r.get(), r.count(), r.oldest(), r.newest()];
          },
        }, ops, k);
      }),
      runs(100),
    );
  });

  it('QuantileSketch resumes exactly (its buckets in their order)', () => {
    const value = fc.oneof(fc.constantFrom(0, 1e-12, 1, 60_000), fc.double({ min: 0, max: 1e9, noNaN: true }));
    const ops = fc.array(fc.record({ revert: fc.boolean(), pick: fc.nat(), value, weight: fc.constantFrom(1, 3, 0.25) }), { maxLength: 100 });
    type Op = { revert: boolean; pick: number; value: number; weight: number };
    const resumable = {
      fresh: () => ({ sketch: new QuantileSketch(0.02), added: [] as Op[] }),
      toState: (t: { sketch: QuantileSketch; added: Op[] }) => ({ state: t.sketch.toState(), added: t.added }),
      fromState: (s: { state: QuantileSketchState; added: Op[] }) => ({ sketch: QuantileSketch.fromState(s.state, 0.02), added: s.added }),
      apply: ({ sketch, added }: { sketch: QuantileSketch; added: Op[] }, op: Op) => {
        if (op.revert && added.length > 0) {
          const { value: x, weight } = added.splice(op.pick % added.length, 1)[0]!;
          sketch.revert(x, weight);
        } else {
          sketch.update(op.value, op.weight);
          added.push(op);
        }
        return [sketch.count(), sketch.quantile(0), sketch.quantile(0.5), sketch.quantile(0.95), sketch.quantile(1)];
      },
    };
    fc.assert(fc.property(ops, fc.nat(110), (list, k) => expectResumes(resumable, list, k)), runs(100));
  });

  it('refuses a state whose bins or exact limit do not fit, naming the setting', () => {
    const m = new BinaryMetrics(10, { maxDistinctScores: 2, scoreBins: 50 });
    for (const score of [0.1, 0.2, 0.3]) m.update({ label: 1, score, threshold: 0.5 });
    const state = throughV8(m.toState());
    mismatch('calibrationBins', () => BinaryMetrics.fromState(state, 20, { maxDistinctScores: 2, scoreBins: 50 }));
    mismatch('scoreBins', () => BinaryMetrics.fromState(state, 10, { maxDistinctScores: 2, scoreBins: 100 }));
    mismatch('maxDistinctScores', () => BinaryMetrics.fromState(state, 10, { scoreBins: 50 }));
    mismatch('model task', () => RegressionMetrics.fromState(state as never));
    const rolling = new Rolling(new RegressionMetrics(), 5);
    for (let i = 0; i < 5; i++) rolling.update({ label: i, score: 0 });
    const rollingState = rolling.toState((r) => r.toState());
    mismatch('sliding window size', () => Rolling.fromState(rollingState, RegressionMetrics.fromState(rollingState.metric), 4));
  });
});


/** A stream of values whose mean moves at a random point (so the detectors fire, and reset, along it). */
const values = fc.tuple(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 300 }), fc.nat(300), fc.double({ min: 0, max: 3, noNaN: true }))
  .map(([xs, at, shift]) => xs.map((x, i) => (i >= at ? x + shift : x)));
const bits = fc.tuple(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 300 }), fc.nat(300))
  .map(([xs, at]) => xs.map((x, i) => (x < (i >= at ? 0.6 : 0.15) ? 1 : 0)));

describe('checkpoints of the drift detectors', () => {
  it('ADWIN resumes exactly (its buckets, sums and clock)', () => {
    const options = { clock: 4, maxBuckets: 3, minWindow: 3, delta: 0.05 };
    const resumable = {
      fresh: () => new ADWIN(options), toState: (d: ADWIN) => d.toState(), fromState: (s: ReturnType<ADWIN['toState']>) => ADWIN.fromState(s, options),
      apply: (d: ADWIN, x: number) => (d.update(x), [d.driftDetected, d.count, d.estimation]),
    };
    fc.assert(fc.property(values, fc.nat(310), (xs, k) => expectResumes(resumable, xs, k)), runs(100));
  });

  it('Page-Hinkley resumes exactly', () => {
    const options = { minInstances: 5, threshold: 3 };
    const resumable = {
      fresh: () => new PageHinkley(options), toState: (d: PageHinkley) => d.toState(), fromState: (s: ReturnType<PageHinkley['toState']>) => PageHinkley.fromState(s, options),
      apply: (d: PageHinkley, x: number) => (d.update(x), [d.driftDetected, d.count]),
    };
    fc.assert(fc.property(values, fc.nat(310), (xs, k) => expectResumes(resumable, xs, k)), runs(100));
  });

  it('DDM resumes exactly (its minimum starts at Infinity)', () => {
    const options = { minInstances: 10 };
    const resumable = {
      fresh: () => new DDM(options), toState: (d: DDM) => d.toState(), fromState: (s: ReturnType<DDM['toState']>) => DDM.fromState(s, options),
      apply: (d: DDM, x: number) => (d.update(x), [d.driftDetected, d.warningDetected, d.count]),
    };
    fc.assert(fc.property(bits, fc.nat(310), (xs, k) => expectResumes(resumable, xs, k)), runs(100));
  });

  it('ScaledAdwin resumes exactly (its reference filling or its scale, and its ADWIN)', () => {
    const options = { referenceSize: 9, adwin: { clock: 4, maxBuckets: 3, minWindow: 3, delta: 0.05 } };
    const resumable = {
      fresh: () => new ScaledAdwin(options), toState: (d: ScaledAdwin) => d.toState(), fromState: (s: ReturnType<ScaledAdwin['toState']>) => ScaledAdwin.fromState(s, options),
      apply: (d: ScaledAdwin, x: number) => (d.update(x), [d.driftDetected, d.count, d.estimation, d.level]),
    };
    fc.assert(fc.property(values, fc.nat(310), (xs, k) => expectResumes(resumable, xs, k)), runs(100));
    const filling = new ScaledAdwin(options);
    for (let i = 0; i < 5; i++) filling.update(i);
    mismatch('reference size', () => ScaledAdwin.fromState(filling.toState(), { ...options, referenceSize: 5 }));
  });

  it('refuses an ADWIN state of more buckets a row than maxBuckets allows', () => {
    const adwin = new ADWIN({ maxBuckets: 5 });
    for (let i = 0; i < 40; i++) adwin.update(i % 2);
    mismatch('maxBuckets', () => ADWIN.fromState(adwin.toState(), { maxBuckets: 2 }));
  });
});

const DRIFT: EvaluatorOptions['drift'] = { ...DEFAULT_EVALUATOR_OPTIONS.drift, referenceSize: 12, windowSize: 7, bins: 4, psiThreshold: 0.1, ksAlpha: 0.05, detectors: true, detectorOrder: 'arrival' };

describe('checkpoints of the distribution monitors and a model\'s drift', () => {
  it('a DistributionMonitor resumes exactly: its reference (filling or frozen) and current window', () => {
    const resumable = {
      fresh: () => new DistributionMonitor('champion', 'v1', 'amount'),
      toState: (m: DistributionMonitor) => m.toState(),
      fromState: (s: ReturnType<DistributionMonitor['toState']>) => DistributionMonitor.fromState(s, DRIFT),
      apply: (m: DistributionMonitor, [x, i]: [number, number]) => m.add(x, 1000 + (i % 17), 5000 + i, i, 'm', DRIFT),
    };
    const stream = values.map((xs) => xs.map((x, i): [number, number] => [Math.round(x * 8) / 8, i]));
    fc.assert(fc.property(stream, fc.nat(310), (xs, k) => expectResumes(resumable, xs, k)), runs(100));
  });

  it('ModelDrift resumes exactly: monitors per feature and role, detectors per role', () => {
    fc.assert(
      fc.property(fc.constantFrom('binary' as const, 'regression' as const), bits, fc.nat(310), (kind, xs, k) => {
        const resumable = {
          fresh: () => new ModelDrift('m', kind),
          toState: (d: ModelDrift) => d.toState(),
          fromState: (s: ReturnType<ModelDrift['toState']>) => ModelDrift.fromState(s, 'm', kind, DRIFT),
          apply: (d: ModelDrift, [x, i]: [number, number]) => {
            // b missing in every fourth record, a categorical c (data quality and categorical drift).
            const features = i % 4 === 3 ? { a: x } : { a: x, b: (i % 5) / 5 };
            const example = { timestamp: 1000 + i, features, categorical: { c: ['u', 'v', 'w'][(i * x) % 3] } } as unknown as LabelledExample;
            const scored = [{ role: 'champion', version: 'v1', score: (i % 7) / 7 }, { role: 'challenger', version: 'm/lr', score: x }];
            const out: unknown[] = [];
            d.observeDistributions(example, scored, 2000 + i, i, DRIFT, out as never);
            for (const { role, version, score } of scored) d.detect(role, version, { label: x, score, threshold: 0.5, at: 2000 + i, id: `${i}#1` }, example, 2000 + i, i, DRIFT, out as never);
            return out;
          },
        };
        expectResumes(resumable, xs.map((x, i): [number, number] => [x, i]), k);
      }),
      runs(60),
    );
  });

  it('refuses monitors whose reference, window or bins do not fit the drift settings', () => {
    const monitor = new DistributionMonitor('*', '*', 'a');
    for (let i = 0; i < 15; i++) monitor.add(i % 9, i, i, i, 'm', DRIFT);
    const state = throughV8(monitor.toState());
    mismatch('evaluator.drift_reference_size', () => DistributionMonitor.fromState(state, { ...DRIFT, referenceSize: 20 }));
    mismatch('evaluator.drift_window_size', () => DistributionMonitor.fromState(state, { ...DRIFT, windowSize: 2 }));
    mismatch('evaluator.drift_bins', () => DistributionMonitor.fromState(state, { ...DRIFT, bins: 6 }));
    const drift = new ModelDrift('m', 'binary');
    drift.detect('champion', 'v1', { label: 1, score: 0.2, threshold: 0.5, at: 0, id: '0#1' }, { timestamp: 0 } as LabelledExample, 0, 1, DRIFT, []);
    mismatch('model task', () => ModelDrift.fromState(drift.toState(), 'm', 'regression', DRIFT));
  });
});

describe('checkpoints of feedback statistics and first-seen names', () => {
  it('FeedbackStats resume exactly: counts, what is due at the next drain, what is forgotten', () => {
    type Op = { what: 'count' | 'drain' | 'discard' | 'forget'; day: number; type: string; old: boolean };
    const op = fc.record({ what: fc.constantFrom('count', 'count', 'count', 'drain', 'discard', 'forget'), day: fc.nat(6), type: fc.constantFrom('USER_CONFIRMED', 'EXPERT_REVIEW'), old: fc.boolean() }) as fc.Arbitrary<Op>;
    const DAY = 86_400_000;
    const resumable = {
      fresh: () => new FeedbackStats('m'),
      toState: (f: FeedbackStats) => f.toState(),
      fromState: (s: ReturnType<FeedbackStats['toState']>) => FeedbackStats.fromState(s, 'm'),
      apply: (f: FeedbackStats, o: Op) => {
        const out: unknown[] = [];
        if (o.what === 'count') f.count(o.day * DAY, o.type, `s${o.day % 2}`, o.old ? { feedbackDay: 0, feedbackType: 'USER_CONFIRMED', source: 's0' } : undefined);
        else if (o.what === 'drain') f.drain(out as never);
        else if (o.what === 'discard') f.discard();
        else f.forget(o.day * DAY);
        f.drain(out as never);
        return out;
      },
    };
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), fc.nat(70), (ops, k) => expectResumes(resumable, ops, k)), runs(100));
  });

  it('FirstSeen resumes exactly, and keeps the names admitted past a lowered limit', () => {
    const resumable = {
      fresh: () => new FirstSeen(4), toState: (f: FirstSeen) => f.toState(), fromState: (s: string[]) => FirstSeen.fromState(s, 4),
      apply: (f: FirstSeen, name: string) => [f.admit(name), f.size, [...f.values()]],
    };
    fc.assert(fc.property(fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', '__proto__'), { maxLength: 30 }), fc.nat(35), (ops, k) => expectResumes(resumable, ops, k)), runs(100));
    const seen = new FirstSeen(3);
    for (const name of ['a', 'b', 'c']) seen.admit(name);
    const lowered = FirstSeen.fromState(seen.toState(), 2);
    expect([lowered.admit('c'), lowered.admit('d')]).toEqual([true, false]);
  });
});

const CELL_OPTIONS: EvaluatorOptions = {
  ...DEFAULT_EVALUATOR_OPTIONS,
  windows: [{ name: '1h', ms: 3_600_000 }, { name: '6h', ms: 21_600_000 }],
  rollingSize: 6, rollingEmitEvery: 4, aucExactLimit: 5, aucBins: 12, calibrationBins: 5,
};

describe('checkpoints of cells and their windows', () => {
  it('a Cell resumes exactly: total, tumbling windows by start, sliding window, label delays', () => {
    type Op = { window: number; hour: number; label: number; score: number; delay: number };
    const op = fc.record({ window: fc.nat(2), hour: fc.nat(20), label: fc.constantFrom(0, 1), score: fc.double({ min: 0, max: 1, noNaN: true }), delay: fc.nat(100_000) });
    fc.assert(
      fc.property(fc.constantFrom('binary' as const, 'regression' as const), fc.constantFrom('champion', 'challenger'), fc.array(op, { maxLength: 80 }), fc.nat(90), (kind, role, ops, k) => {
        const resumable = {
          fresh: () => newCell(CELL_OPTIONS, { kind }, role, 'v1', 'region=eu'),
          toState: (c: Cell) => c.toState(),
          fromState: (s: ReturnType<Cell['toState']>) => Cell.fromState(s, CELL_OPTIONS, { kind }),
          apply: (cell: Cell, o: Op) => {
            const w = CELL_OPTIONS.windows[o.window % 2]!;
            const timestamp = o.hour * 3_600_000;
            const observation: Observation = { label: o.label, score: o.score, threshold: 0.5, at: timestamp + o.delay, id: String(timestamp) };
            for (const stats of [cell.total, cell.window(o.window % 2, w.name, Math.floor(timestamp / w.ms) * w.ms)]) {
              stats.metric.update(observation);
              stats.labelled++;
              stats.delay?.update(o.delay);
              stats.lastTimestamp = Math.max(stats.lastTimestamp, timestamp);
            }
            cell.rolling!.update(observation);
            cell.sinceEmit = (cell.sinceEmit + 1) % CELL_OPTIONS.rollingEmitEvery;
            const open = cell.tumbling.flatMap((byStart) => [...byStart.values()]);
            return [[cell.total, ...open].map((stats) => windowPoints(CELL_OPTIONS, 'm', stats)), rollingPoints('m', cell), cell.sinceEmit];
          },
        };
        expectResumes(resumable, ops, k);
      }),
      runs(60),
    );
  });

  it('refuses a cell whose windows, sliding window or model task changed, naming the setting', () => {
    const cell = newCell(CELL_OPTIONS, { kind: 'binary' }, 'champion', 'v1', '*');
    const stats = cell.window(1, '6h', 0);
    stats.metric.update({ label: 1, score: 0.3, threshold: 0.5 });
    cell.sinceEmit = 3;
    const state = throughV8(cell.toState());
    mismatch('evaluator.windows', () => Cell.fromState(state, { ...CELL_OPTIONS, windows: [{ name: '1h', ms: 3_600_000 }] }, { kind: 'binary' }));
    mismatch('evaluator.windows', () => Cell.fromState(state, { ...CELL_OPTIONS, windows: [{ name: '1h', ms: 3_600_000 }, { name: '1d', ms: 86_400_000 }] }, { kind: 'binary' }));
    mismatch('evaluator.rolling_size', () => Cell.fromState(state, { ...CELL_OPTIONS, rollingSize: 0 }, { kind: 'binary' }));
    mismatch('evaluator.rolling_emit_every', () => Cell.fromState(state, { ...CELL_OPTIONS, rollingEmitEvery: 2 }, { kind: 'binary' }));
    mismatch('calibrationBins', () => Cell.fromState(state, { ...CELL_OPTIONS, calibrationBins: 10 }, { kind: 'binary' }));
    mismatch('models.<name>.task', () => Cell.fromState(state, CELL_OPTIONS, { kind: 'regression' }));
  });

  it('takes no state of a window changed since the last drain', () => {
    const cell = newCell(CELL_OPTIONS, { kind: 'binary' }, 'champion', 'v1', '*');
    cell.total.dirty = true;
    expect(() => cell.toState()).toThrowError(/changed since the last drain/);
  });
});
