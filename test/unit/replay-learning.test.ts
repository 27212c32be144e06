/**
 * The learner and shadow scoring in a replay: challengers learn from the
 * labelled examples, publish snapshots every N examples, and the joiner
 * scores each later prediction with the newest snapshot made before the
 * prediction's time (never one trained on later labels). The challenger's
 * figures then appear beside the champion's.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../adapters/config/index.js';
import { replay } from '../../runtime/replay.js';
import { ManualClock } from '../../core/clock.js';
import { type Feedback, type LabelledExample, noFeedbackClasses, noPredictionClasses, type Prediction } from '../../core/events.js';
import { seededRandom } from '../support/random.js';

const readJsonl = <T>(path: string): T[] => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
const START = Date.UTC(2025, 5, 1);

describe('replay with the learner and shadow scoring', () => {
  it('publishes snapshots, shadow-scores later predictions without look-ahead, and evaluates the challenger', async () => {
    const random = seededRandom(42);
    const predictions: Prediction[] = [];
    const feedback: Feedback[] = [];
    for (let i = 0; i < 3000; i++) {
      const timestamp = START + i * 60_000;
      const x = random();
      const label = x + (random() - 0.5) * 0.3 > 0.5 ? 1 : 0;
      // The champion is barely better than chance; the signal is in x.
      predictions.push({ prediction_id: `p${i}`, model: 'fraud', model_version: 'v1', timestamp, features: { x, noise: random() }, categorical: { plan: random() < 0.5 ? 'a' : 'b' }, segments: {}, score: Math.min(1, Math.max(0, 0.5 + (label - 0.5) * 0.1 + (random() - 0.5) * 0.8)), threshold: 0.5, shadow_scores: {}, ...noPredictionClasses() });
      feedback.push({ prediction_id: `p${i}`, timestamp: timestamp + 60_000 + Math.floor(random() * 3_600_000), feedback_type: 'AUTO_VALIDATED', label, uncertain: false, source: 'reconciler', notes: null, ...noFeedbackClasses() });
    }
    feedback.sort((a, b) => a.timestamp - b.timestamp);
    const dir = mkdtempSync(join(tmpdir(), 'replay-learning-'));
    const jsonl = (rows: unknown[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');
    writeFileSync(join(dir, 'p.jsonl'), jsonl(predictions));
    writeFileSync(join(dir, 'f.jsonl'), jsonl(feedback));
    const out = join(dir, 'out');
    const summary = await replay({
      predictions: join(dir, 'p.jsonl'), feedback: join(dir, 'f.jsonl'), out,
      config: buildConfig({ learner: { snapshot_every: 100 }, models: { fraud: { challengers: ['logreg', 'ftrl'] } } }),
      clock: new ManualClock(0),
    });

    const snapshots = readJsonl<{ version: string; challenger: string; training_count: number; parent_version: string | null; created_at: number; data_hash: string }>(join(out, 'snapshots.jsonl'));
    expect(summary.snapshots_published).toBe(snapshots.length);
    for (const challenger of ['logreg', 'ftrl']) {
      const mine = snapshots.filter((s) => s.challenger === challenger);
      expect(mine.length).toBeGreaterThan(20);
      mine.forEach((s, k) => {
        expect(s.version).toBe(`fraud/${challenger}@${k + 1}`);
        expect(s.parent_version).toBe(k === 0 ? null : `fraud/${challenger}@${k}`);
        if (k > 0) expect(s.training_count).toBeGreaterThan(mine[k - 1]!.training_count);
      });
      expect(mine[mine.length - 1]!.training_count).toBe(3000);
    }

    // No look-ahead: every shadow score comes from a snapshot made at or before the prediction's time.
    const createdAt = new Map(snapshots.map((s) => [s.version, s.created_at]));
    const labelled = readJsonl<LabelledExample>(join(out, 'labelled.jsonl'));
    let scored = 0;
    let maxStaleness = 0;
    for (const e of labelled) {
      for (const version of Object.keys(e.shadow_scores)) {
        const made = createdAt.get(version);
        expect(made, version).toBeDefined();
        expect(made!).toBeLessThanOrEqual(e.timestamp);
        maxStaleness = Math.max(maxStaleness, e.timestamp - made!);
        scored++;
      }
    }
    expect(scored).toBeGreaterThan(2 * 2400);
    // Bounded staleness: snapshots reach the scorer between replay chunks (1,000 events, about 8.3 h
    // of this stream), plus up to 100 labels (1.7 h) before a snapshot, plus labels up to 1 h late.
    expect(maxStaleness).toBeLessThan(12 * 3_600_000);

    // The challengers learn the signal the champion misses.
    const metrics = readJsonl<{ model_version: string; role: string; segment: string; window: string; metric: string; value: number }>(join(out, 'metrics.jsonl'));
    const auc = (role: string, version: string) => metrics.find((m) => m.role === role && m.model_version === version && m.segment === '*' && m.window === 'total' && m.metric === 'roc_auc')!.value;
    expect(auc('challenger', 'fraud/logreg')).toBeGreaterThan(0.85);
    expect(auc('challenger', 'fraud/ftrl')).toBeGreaterThan(0.85);
    expect(auc('champion', 'v1')).toBeLessThan(0.7);

    // The promoter: the challengers are clearly better, so one is promoted, with its evidence.
    const promotions = readJsonl<{ model: string; decision: string; from_version: string; to_version: string; at: number; n: number; statistic: number; bound: number; alpha: number; reason: string }>(join(out, 'promotions.jsonl'));
    expect(summary.decisions).toBe(promotions.length);
    const first = promotions[0]!;
    expect(first).toMatchObject({ model: 'fraud', decision: 'promote', from_version: 'v1', alpha: 0.05 });
    expect(first.to_version).toMatch(/^fraud\/(logreg|ftrl)@\d+$/);
    expect(first.n).toBeGreaterThanOrEqual(500);
    expect(first.bound).toBeGreaterThan(0);
    expect(first.statistic).toBeGreaterThan(first.bound);
    expect(first.at).toBeGreaterThan(START);
    expect(first.reason.length).toBeGreaterThan(20);

    // Deterministic: a second replay of the same files writes the same bytes.
    const again = join(dir, 'again');
    await replay({
      predictions: join(dir, 'p.jsonl'), feedback: join(dir, 'f.jsonl'), out: again,
      config: buildConfig({ learner: { snapshot_every: 100 }, models: { fraud: { challengers: ['logreg', 'ftrl'] } } }),
      clock: new ManualClock(0),
    });
    for (const file of ['labelled.jsonl', 'snapshots.jsonl', 'metrics.jsonl', 'drift.jsonl', 'promotions.jsonl']) {
      expect(readFileSync(join(again, file), 'utf8'), file).toBe(readFileSync(join(out, file), 'utf8'));
    }
  });
});
