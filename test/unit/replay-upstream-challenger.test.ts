/**
 * Upstream challengers (issue 15's "done when"), on a replay with every
 * processor on: the predictions carry an upstream candidate's score
 * (`shadow_scores: { "gbm-v8": … }`, made upstream for the same request).
 * The candidate flows into the labelled examples beside the champion, is
 * evaluated as role `challenger` under its own version, and is promoted
 * exactly like one of our challengers when it is truly better, never when
 * it is worse.
 *
 * The world: x ~ N(0, 1), true log-odds z = −1.5 + 1.5·x², y ~ Bernoulli(sigmoid(z)),
 * a prediction every 2 minutes for 14 days, each label 1 to 30 minutes later.
 * The better model is the true probability; the worse one sees z through
 * N(0, 1.5²) noise on the log-odds. Our own default challenger (logreg, linear
 * in x) learns beside them and cannot fit x², so the candidate's fate is its own.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../../adapters/config/index.js';
import { ManualClock } from '../../core/clock.js';
import type { MetricPoint } from '../../core/evaluate/index.js';
import { type Feedback, noFeedbackClasses, noPredictionClasses, type Prediction } from '../../core/events.js';
import { mulberry32 } from '../../demo/random.js';
import { writeReplayInput } from '../support/replay-files.js';
import { replay } from '../../runtime/replay.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const START = Date.UTC(2025, 5, 1);
const PREDICTIONS = 10_080;
const CANDIDATE = 'gbm-v8';

const DIR = mkdtempSync(join(tmpdir(), 'replay-upstream-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** The stream with the champion and the upstream candidate each the true model or the noisy one. */
function writeStream(candidateBetter: boolean): { predictions: string; feedback: string } {
  const random = mulberry32(15);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const predictions: Prediction[] = [];
  const feedback: Feedback[] = [];
  for (let i = 0; i < PREDICTIONS; i++) {
    const timestamp = START + i * 2 * MINUTE;
    const x = normal();
    const z = -1.5 + 1.5 * x * x;
    const truth = sigmoid(z);
    const noisy = sigmoid(z + 1.5 * normal());
    const label = random() < truth ? 1 : 0;
    const [champion, candidate] = candidateBetter ? [noisy, truth] : [truth, noisy];
    predictions.push({ prediction_id: `p${i}`, model: 'fraud', model_version: 'v1', timestamp, features: { x }, categorical: {}, segments: {}, score: champion, threshold: 0.5, shadow_scores: { [CANDIDATE]: candidate }, ...noPredictionClasses() });
    feedback.push({ prediction_id: `p${i}`, timestamp: timestamp + MINUTE * (1 + Math.floor(random() * 30)), feedback_type: 'AUTO_VALIDATED', label, uncertain: false, source: 'ledger', notes: null, ...noFeedbackClasses() });
  }
  feedback.sort((a, b) => a.timestamp - b.timestamp);
  return writeReplayInput(mkdtempSync(join(DIR, 'in-')), predictions, feedback);
}

async function run(candidateBetter: boolean) {
  const out = mkdtempSync(join(DIR, 'out-'));
  const config = buildConfig({ joiner: { join_window: '1d' }, evaluator: { windows: ['1d'] }, models: { fraud: { challengers: ['logreg'] } } });
  const summary = await replay({ ...writeStream(candidateBetter), out, config, clock: new ManualClock(START + 30 * DAY) });
  const lines = (file: string) => readFileSync(join(out, file), 'utf8').split('\n').filter(Boolean);
  const decisions = lines('promotions.jsonl').map((l) => JSON.parse(l) as { decision: string; from_version: string; to_version: string; n: number });
  const points = lines('metrics.jsonl').map((l) => JSON.parse(l) as MetricPoint);
  const labelled = lines('labelled.jsonl').map((l) => JSON.parse(l) as { shadow_scores: Record<string, number> });
  return { summary, decisions, points, labelled };
}

describe('replay: an upstream candidate in the predictions\' shadow_scores', () => {
  it('a truly better candidate is evaluated as a challenger and promoted by its own version', async () => {
    const { summary, decisions, points, labelled } = await run(true);
    expect(summary.labelled).toBe(PREDICTIONS);
    // Beside our own logreg's snapshots (`fraud/logreg@n`), scored at prediction time as always.
    expect(labelled.filter((e) => Object.hasOwn(e.shadow_scores, CANDIDATE)).length).toBe(PREDICTIONS);
    const logLoss = (role: string, version: string) => points.find((p) => p.role === role && p.model_version === version && p.window === 'total' && p.segment === '*' && p.metric === 'log_loss')!.value!;
    expect(logLoss('challenger', CANDIDATE)).toBeLessThan(logLoss('champion', 'v1') - 0.05);
    expect(decisions.map((d) => `${d.decision} ${d.from_version} -> ${d.to_version}`)).toEqual([`promote v1 -> ${CANDIDATE}`]);
  }, 120_000);

  it('a worse candidate is never promoted', async () => {
    const { summary, decisions } = await run(false);
    expect(summary.labelled).toBe(PREDICTIONS);
    expect(decisions).toEqual([]);
  }, 120_000);
});
