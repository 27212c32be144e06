/**
 * Learners never turn NaN (issue 12: 60 predictions with features around
 * 1e308 turned a logistic-regression challenger into NaN for good).
 *
 *  - The bound (learner.max_feature_magnitude): in a replay, the examples
 *    beyond it are dead-lettered by the learner and learned by no challenger;
 *    the snapshots stay finite, shadow scores keep coming, and the final
 *    parameters equal a replay of the stream without those predictions.
 *  - The trainer's last guard: a learn step that leaves a challenger
 *    non-finite does not stick; the challenger goes back to its last snapshot.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../adapters/config/index.js';
import { ManualClock } from '../../core/clock.js';
import { ValidationError } from '../../core/errors.js';
import { type Feedback, type LabelledExample, type ModelSnapshot, noExampleClasses, noFeedbackClasses, noPredictionClasses, type Prediction } from '../../core/events.js';
import { ChallengerTrainer, createChallenger } from '../../core/learn/index.js';
import { LinearRegression, NumericFeatures, Pipeline, sgd } from '../../core/models/index.js';
import { replay } from '../../runtime/replay.js';
import { seededRandom } from '../support/random.js';

const readJsonl = <T>(path: string): T[] => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
const START = Date.UTC(2025, 5, 1);
const CHALLENGERS = ['logreg', 'ftrl', 'naive_bayes'];

/** Every number in a snapshot's parameters, including the float64 arrays (base64), is finite. */
function assertFinite(value: unknown, path: string): void {
  if (typeof value === 'number') expect(Number.isFinite(value), path).toBe(true);
  else if (typeof value === 'string') {
    expect(['NaN', 'Infinity', '-Infinity'], path).not.toContain(value);
    if (value.length >= 12 && value.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(value)) {
      const bytes = Buffer.from(value, 'base64');
      if (bytes.length % 8 === 0) for (let i = 0; i < bytes.length; i += 8) expect(Number.isFinite(bytes.readDoubleLE(i)), `${path}[${i / 8}]`).toBe(true);
    }
  } else if (Array.isArray(value)) value.forEach((v, i) => assertFinite(v, `${path}[${i}]`));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) assertFinite(v, `${path}.${k}`);
}

/** 3,000 normal predictions with their feedback; `bad` adds 60 with x around 1e308 (and their feedback). */
function stream(bad: boolean): { predictions: Prediction[]; feedback: Feedback[]; badIds: Set<string> } {
  const random = seededRandom(42);
  const predictions: Prediction[] = [];
  const feedback: Feedback[] = [];
  const badIds = new Set<string>();
  for (let i = 0; i < 3000; i++) {
    const timestamp = START + i * 60_000;
    const x = random();
    const label = x + (random() - 0.5) * 0.3 > 0.5 ? 1 : 0;
    const noise = random();
    const plan = random() < 0.5 ? 'a' : 'b';
    const score = Math.min(1, Math.max(0, 0.5 + (label - 0.5) * 0.1 + (random() - 0.5) * 0.8));
    const delay = 60_000 + Math.floor(random() * 3_600_000);
    predictions.push({ prediction_id: `p${i}`, model: 'fraud', model_version: 'v1', timestamp, features: { x, noise }, categorical: { plan }, segments: {}, score, threshold: 0.5, shadow_scores: {}, ...noPredictionClasses() });
    feedback.push({ prediction_id: `p${i}`, timestamp: timestamp + delay, feedback_type: 'AUTO_VALIDATED', label, uncertain: false, source: 'reconciler', notes: null, ...noFeedbackClasses() });
    // Its own generator: the normal stream is the same with or without the bad predictions.
    if (bad && i >= 1000 && i < 1600 && i % 10 === 0) {
      const id = `bad${i}`;
      badIds.add(id);
      const huge = 1e308 * (1 + (i % 7) / 10);
      predictions.push({ prediction_id: id, model: 'fraud', model_version: 'v1', timestamp: timestamp + 30_000, features: { x: i % 20 === 0 ? huge : -huge, noise: 0.5 }, categorical: { plan: 'a' }, segments: {}, score: 0.5, threshold: 0.5, shadow_scores: {}, ...noPredictionClasses() });
      feedback.push({ prediction_id: id, timestamp: timestamp + 90_000, feedback_type: 'AUTO_VALIDATED', label: i % 20 === 0 ? 1 : 0, uncertain: false, source: 'reconciler', notes: null, ...noFeedbackClasses() });
    }
  }
  feedback.sort((a, b) => a.timestamp - b.timestamp);
  return { predictions, feedback, badIds };
}

async function replayStream(bad: boolean) {
  const { predictions, feedback, badIds } = stream(bad);
  const dir = mkdtempSync(join(tmpdir(), 'learner-guard-'));
  const jsonl = (rows: unknown[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');
  writeFileSync(join(dir, 'p.jsonl'), jsonl(predictions));
  writeFileSync(join(dir, 'f.jsonl'), jsonl(feedback));
  const out = join(dir, 'out');
  // snapshots.jsonl leaves the parameters out: the observer sees every published snapshot whole.
  const snapshots: ModelSnapshot[] = [];
  await replay({
    predictions: join(dir, 'p.jsonl'), feedback: join(dir, 'f.jsonl'), out,
    config: buildConfig({ learner: { snapshot_every: 100 }, models: { fraud: { challengers: CHALLENGERS } } }),
    clock: new ManualClock(0),
    observer: { published: (published) => void published.forEach((s) => snapshots.push(s)) },
  });
  return {
    badIds,
    snapshots,
    labelled: readJsonl<LabelledExample>(join(out, 'labelled.jsonl')),
    letters: readJsonl<{ stage: string; error_class: string; error_message: string }>(join(out, 'dead_letters.jsonl')),
  };
}

const last = (snapshots: ModelSnapshot[], challenger: string) => snapshots.filter((s) => s.challenger === challenger).at(-1)!;

describe('learners never turn NaN', () => {
  it('dead-letters the examples beyond learner.max_feature_magnitude: snapshots stay finite and equal a replay without them', async () => {
    const dirty = await replayStream(true);
    const clean = await replayStream(false);
    expect(dirty.badIds.size).toBe(60);

    // The 60 bad examples are dead letters of the learner, with the reason.
    const learnerLetters = dirty.letters.filter((l) => l.stage === 'learner');
    expect(learnerLetters).toHaveLength(60);
    for (const letter of learnerLetters) {
      expect(letter.error_class).toBe('validation');
      expect(letter.error_message).toMatch(/^model fraud: feature "x" = -?1(\.\d+)?e\+308 is beyond learner\.max_feature_magnitude \(1000000000\); example \S+ of prediction bad\d+ not learned$/);
    }
    const named = new Set(learnerLetters.map((l) => /prediction (bad\d+)/.exec(l.error_message)![1]));
    expect(named).toEqual(dirty.badIds);
    expect(clean.letters.filter((l) => l.stage === 'learner')).toHaveLength(0);

    // Every snapshot stays finite.
    for (const s of dirty.snapshots) assertFinite(JSON.parse(s.parameters), s.version);

    // Shadow scores keep coming after the bad examples, from every challenger.
    const lastBad = dirty.labelled.filter((e) => dirty.badIds.has(e.prediction_id)).reduce((max, e) => Math.max(max, e.feedback_timestamp ?? e.timestamp), Number.NEGATIVE_INFINITY);
    const after = dirty.labelled.filter((e) => e.timestamp > lastBad + 12 * 3_600_000);
    expect(after.length).toBeGreaterThan(500);
    for (const challenger of CHALLENGERS) {
      const scored = after.filter((e) => Object.keys(e.shadow_scores).some((v) => v.startsWith(`fraud/${challenger}@`)));
      expect(scored.length, challenger).toBe(after.length);
    }

    // The final state of each challenger is exactly that of the replay without the bad predictions.
    for (const challenger of CHALLENGERS) {
      const a = last(dirty.snapshots, challenger);
      const b = last(clean.snapshots, challenger);
      expect(a.training_count, challenger).toBe(3000);
      expect(a.data_hash, challenger).toBe(b.data_hash);
      expect(a.parameters, challenger).toBe(b.parameters);
    }
  }, 60_000);
});

describe("the trainer's last guard", () => {
  const example = (i: number, x: number, label: number): LabelledExample => ({
    prediction_id: `p${i}`, model: 'sales', model_version: 'v1', timestamp: START + i, features: { x }, categorical: {}, segments: {}, score: 0, threshold: 0,
    example_id: `e${i}`, label, feedback_type: 'AUTO_VALIDATED', source: 'test', feedback_timestamp: START + i, label_delay_ms: 0, correction_of: null, shadow_scores: {}, replaces: null, arrival: false,
    ...noExampleClasses(),
  });

  it('rebuilds a regression challenger from its last snapshot when a huge but allowed label overflows it', () => {
    // The presets clip the loss gradient at 1e12, so no label can overflow them: this
    // linear regression does not clip, and sees raw features (no scaler).
    const build = (name: string) => (name === 'raw_linreg'
      ? new Pipeline([new NumericFeatures()], new LinearRegression({ optimizer: sgd(0.01), clipGradient: 1e308 }))
      : createChallenger(name, 'regression'));
    const trainer = new ChallengerTrainer({ kindOf: () => 'regression', challengersOf: () => ['raw_linreg', 'linreg'], maxFeatureMagnitude: 1e308, build });
    for (let i = 0; i < 200; i++) expect(trainer.learn(example(i, 1 + (i % 10), 3 * (1 + (i % 10))))).toEqual([]);
    const published = trainer.snapshot(START + 1000);
    const good = published.find((s) => s.challenger === 'raw_linreg')!;
    const goodLinreg = published.find((s) => s.challenger === 'linreg')!;

    // Allowed labels (within the bound), each huge: the unclipped model overflows on the second.
    const messages: string[][] = [];
    for (let i = 200; i < 204; i++) messages.push(trainer.learn(example(i, 1000, i % 2 === 0 ? 1e300 : -1e300)));
    expect(messages.flat().length).toBeGreaterThan(0);
    for (const m of messages.flat()) expect(m).toMatch(/^model sales: challenger raw_linreg turned non-finite learning example e20\d; rebuilt from sales\/raw_linreg@1 \(what it learned since is lost\)$/);
    expect(trainer.counters.reverted).toBe(messages.flat().length);

    const model = trainer.pipeline('sales', 'raw_linreg')!;
    expect(Number.isFinite(model.predictOne({ features: { x: 5 } }))).toBe(true);
    assertFinite(model.toSnapshot(), 'raw_linreg');
    // The preset (clipped) learned every step and stays finite.
    assertFinite(trainer.pipeline('sales', 'linreg')!.toSnapshot(), 'linreg');
    expect(trainer.pipeline('sales', 'linreg')!.trainingCount).toBe(204);

    // The next snapshot holds the last good state or later finite steps, never a non-finite one.
    const next = trainer.snapshot(START + 2000);
    for (const s of next) assertFinite(JSON.parse(s.parameters), s.version);
    const raw = next.find((s) => s.challenger === 'raw_linreg');
    if (raw === undefined) expect(model.toSnapshot()).toEqual(JSON.parse(good.parameters));
    expect(next.find((s) => s.challenger === 'linreg')!.parent_version).toBe(goodLinreg.version);
  });

  it('refuses an example beyond the bound before any challenger learns it', () => {
    const trainer = new ChallengerTrainer({ kindOf: () => 'regression', challengersOf: () => ['linreg'], maxFeatureMagnitude: 1e6 });
    expect(() => trainer.learn(example(1, 1, 2e6))).toThrow(ValidationError);
    expect(() => trainer.learn(example(2, -2e6, 1))).toThrow(/feature "x" = -2000000 is beyond/);
    expect(trainer.counters).toMatchObject({ out_of_bounds: 2, learned: 0 });
    expect(trainer.dirty()).toBe(false);
  });
});
