/**
 * Issue 14's "done when", on a replay (runtime/replay.ts, every processor
 * on, arrival records on): labels of positives arrive 1 to 4 days after
 * their prediction, negatives' within the hour. With promoter.maturity
 * covering the delay (5 days), a model whose champion is the true
 * probability is never promoted against by the challengers learned online
 * from those labels, and a truly better learned challenger still replaces a
 * clearly worse champion.
 *
 * The world (bench/promotion-sim.ts's): x ~ N(0, 1), true log-odds
 * z = −1 + 1.5·x, y ~ Bernoulli(sigmoid(z)), one prediction every 2
 * minutes for 28 days; a noise feature the true model ignores. Every label
 * comes (no expiry: join window 5 days; the last test shortens it to 2 days,
 * so that predictions expire and late labels end unmatched).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../../adapters/config/index.js';
import { ManualClock } from '../../core/clock.js';
import { type Feedback, noFeedbackClasses, noPredictionClasses, type Prediction, type PromotionDecision } from '../../core/events.js';
import { mulberry32 } from '../../demo/random.js';
import { writeReplayInput } from '../support/replay-files.js';
import { replay, type ReplaySummary } from '../../runtime/replay.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const START = Date.UTC(2025, 5, 1);
const PREDICTIONS = 20_160; // 28 days, one every 2 minutes
const SEED = 14;

const DIR = mkdtempSync(join(tmpdir(), 'replay-delay-promotion-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

type Champion = 'true' | 'constant';

/** The seeded stream, written as the replay's input files; returns their paths. */
function writeStream(champion: Champion): { predictions: string; feedback: string } {
  const random = mulberry32(SEED);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const predictions: Prediction[] = [];
  const feedback: Feedback[] = [];
  for (let i = 0; i < PREDICTIONS; i++) {
    const timestamp = START + i * 2 * MINUTE;
    const x = normal();
    const noise = normal();
    const p = sigmoid(-1 + 1.5 * x);
    const label = random() < p ? 1 : 0;
    // A positive's label 1 to 4 days late, a negative's within the hour.
    const delay = label === 1 ? DAY + Math.floor(random() * 3 * DAY) : Math.floor(random() * HOUR);
    // The constant champion scores every prediction with the base rate of this world (about 0.32).
    const score = champion === 'true' ? p : 0.32;
    predictions.push({ prediction_id: `p${i}`, model: 'fraud', model_version: 'v1', timestamp, features: { x, noise }, categorical: {}, segments: {}, score, threshold: 0.5, shadow_scores: {}, ...noPredictionClasses() });
    feedback.push({ prediction_id: `p${i}`, timestamp: timestamp + delay, feedback_type: 'AUTO_VALIDATED', label, uncertain: false, source: 'ledger', notes: null, ...noFeedbackClasses() });
  }
  feedback.sort((a, b) => a.timestamp - b.timestamp);
  return writeReplayInput(mkdtempSync(join(DIR, `${champion}-`)), predictions, feedback);
}

const streams = new Map<Champion, { predictions: string; feedback: string }>();

interface Settings {
  maturity: string;
  joinWindow?: string;
  emitArrivals?: boolean;
}

async function run(champion: Champion, settings: Settings): Promise<{ out: string; summary: ReplaySummary; decisions: string[] }> {
  if (!streams.has(champion)) streams.set(champion, writeStream(champion));
  const input = streams.get(champion)!;
  const out = mkdtempSync(join(DIR, `out-${champion}-`));
  const config = buildConfig({
    joiner: { join_window: settings.joinWindow ?? '5d', emit_arrivals: settings.emitArrivals ?? true },
    learner: { snapshot_every: 200 },
    promoter: { maturity: settings.maturity },
    evaluator: { windows: ['1d'] },
    models: { fraud: { challengers: ['logreg', 'ftrl'] } },
  });
  const summary = await replay({ ...input, out, config, clock: new ManualClock(START + 60 * DAY) });
  // Each decision, when (ms of event time after the first prediction) and on how many paired examples.
  const decisions = readFileSync(join(out, 'promotions.jsonl'), 'utf8').split('\n').filter(Boolean).map((line) => {
    const d = JSON.parse(line) as { decision: string; from_version: string; to_version: string; at: number; n: number };
    return `${d.decision} ${d.from_version} -> ${d.to_version} at +${d.at - START} ms, n ${d.n}`;
  });
  return { out, summary, decisions };
}

describe('replay: promotion under outcome-dependent label delay, arrival records on', () => {
  it('promoter.maturity 5d: a champion that is the true probability is never promoted against', async () => {
    const { summary, decisions } = await run('true', { maturity: '5d' });
    expect(summary.labelled).toBe(PREDICTIONS);
    expect(summary.snapshots_published).toBe(202);
    expect(decisions).toEqual([]);
  }, 120_000);

  it('promoter.maturity 5d: a clearly worse (constant) champion is replaced by a learned challenger', async () => {
    const { decisions } = await run('constant', { maturity: '5d' });
    expect(decisions).toEqual([
      'promote v1 -> fraud/ftrl@16 at +717349689 ms, n 1771', // 8.3 days in
      // Then the better of the two learned challengers replaces the other.
      'promote fraud/ftrl@41 -> fraud/logreg@41 at +1114617585 ms, n 502',
    ]);
  }, 120_000);

  it("today's test (maturity 0s): the same on the true champion here; on the constant one it promotes 5 days sooner", async () => {
    // Today's test does not promote against the true champion on this stream either (nor on seeds 1 to 3):
    // the challengers learned from these labels are not better on the fast-labelled negatives. The harmful
    // case (a challenger better only there) is test/unit/promote-delay.test.ts, at the policy level.
    expect((await run('true', { maturity: '0s' })).decisions).toEqual([]);
    // The price of maturity: the first promotion at 3.1 days (1,141 paired examples) instead of 8.3 (1,771).
    expect((await run('constant', { maturity: '0s' })).decisions).toEqual([
      'promote v1 -> fraud/logreg@4 at +270053897 ms, n 1141',
      'promote fraud/logreg@10 -> fraud/ftrl@10 at +337343334 ms, n 500',
      'promote fraud/ftrl@33 -> fraud/logreg@33 at +1196214169 ms, n 7107',
    ]);
  }, 120_000);
});

describe('replay: arrival records change no output of the joiner, the learner or the promoter', () => {
  it('joiner.emit_arrivals on or off: the same labelled, unlabelled and unmatched files, snapshots, decisions and join counts', async () => {
    // A 2-day join window: positives labelled later expire (unlabelled.jsonl), and a late label is unmatched.
    const settings = { maturity: '2d', joinWindow: '2d' };
    const on = await run('constant', { ...settings, emitArrivals: true });
    const off = await run('constant', { ...settings, emitArrivals: false });
    const files = ['labelled.jsonl', 'unlabelled.jsonl', 'unmatched.jsonl', 'dead_letters.jsonl', 'snapshots.jsonl', 'promotions.jsonl'];
    const read = (out: string, file: string) => readFileSync(join(out, file), 'utf8').replaceAll(out, '<out>');
    for (const file of files) expect(read(on.out, file), file).toBe(read(off.out, file));
    // The summary too, but for the evaluator's counts: arrivals are what it reads predictions, estimates and input drift from.
    const summary = (out: string) => {
      const { metric_points: _points, drift_alarms: _alarms, ...rest } = JSON.parse(read(out, 'summary.json')) as Record<string, unknown>;
      return rest;
    };
    expect(summary(on.out)).toEqual(summary(off.out));
    expect(on.summary.expired_unlabelled).toBeGreaterThan(1000);
    expect(on.summary.unmatched).toBeGreaterThan(1000);
    expect(on.decisions.length).toBeGreaterThan(0);
    // No arrival record in the files: as many lines as labels and expiries.
    const lines = (file: string) => read(on.out, file).split('\n').filter(Boolean);
    expect(lines('labelled.jsonl').length).toBe(on.summary.labelled + on.summary.corrections);
    expect(lines('unlabelled.jsonl').length).toBe(on.summary.expired_unlabelled);
    expect(lines('labelled.jsonl').concat(lines('unlabelled.jsonl')).some((l) => l.includes('"arrival":true'))).toBe(false);
  }, 120_000);
});
