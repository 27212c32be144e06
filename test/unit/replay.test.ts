/**
 * `feedbackloop replay` end to end on the in-process log, on the example
 * files (which hold every awkward case on purpose), with exact outputs.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../adapters/config/index.js';
import { ManualClock } from '../../core/clock.js';
import { replay } from '../../runtime/replay.js';

const ROOT = join(import.meta.dirname, '..', '..');
const readJsonl = (path: string) =>
  readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);

describe('replay of the example files', () => {
  it('writes the exact labelled examples, corrections, unmatched feedback, dead letters and summary', async () => {
    const out = mkdtempSync(join(tmpdir(), 'replay-'));
    const summary = await replay({
      predictions: join(ROOT, 'examples/predictions.jsonl'),
      feedback: join(ROOT, 'examples/feedback.jsonl'),
      out,
      config: loadConfig(join(ROOT, 'examples/config.yaml'), {}),
      clock: new ManualClock(1_800_000_000_000),
    });

    const labelled = readJsonl(join(out, 'labelled.jsonl'));
    expect(labelled.map((e) => [e.example_id, e.label, e.feedback_type, e.source, e.label_delay_ms, e.correction_of])).toEqual([
      ['tx-001#1', 1, 'USER_CONFIRMED', 'user-81', 1_200_000, null],
      ['tx-002#1', 0, 'USER_CONFIRMED', 'user-12', 300_000, null],
      ['tx-003#1', 1, 'USER_CONFIRMED', 'user-33', 600_000, null],
      ['tx-004#1', 0, 'AUTO_VALIDATED', 'reconciler', 60_000, null],
      ['eta-001#1', 41.5, 'AUTO_VALIDATED', 'courier-app', 2_640_000, null],
      ['tx-005#1', 0, 'USER_REJECTED', 'user-55', 1_800_000, null],
      ['tx-006#1', 1, 'USER_CONFIRMED', 'user-60', -2000, null],
      ['eta-002#1', 18.5, 'USER_CONFIRMED', 'user-3', 3_540_000, null],
      ['tx-007#1', 1, 'EXPERT_REVIEW', 'analyst-7', 7_170_000, null],
      ['tx-003#2', 0, 'EXPERT_REVIEW', 'analyst-7', 86_400_000, 'tx-003#1'],
    ]);
    // The last line for a prediction_id carries its final label.
    const finalLabel = new Map(labelled.map((e) => [e.prediction_id, e.label]));
    expect(finalLabel.get('tx-003')).toBe(0);
    // Every line has the prediction's score, threshold, segments and (no challengers yet) empty shadow scores.
    expect(labelled[0]).toMatchObject({ model: 'fraud-detector', model_version: 'v7', score: 0.91, threshold: 0.5, segments: { region: 'eu' }, shadow_scores: {} });

    expect(readJsonl(join(out, 'unmatched.jsonl')).map((u) => [u.prediction_id, u.reason])).toEqual([
      ['tx-999', 'no prediction tx-999 arrived within 1h of the feedback (unknown id, or its prediction already expired)'],
    ]);
    const letters = readJsonl(join(out, 'dead_letters.jsonl'));
    expect(letters.map((l) => [String(l.file).split('/').pop(), l.line, l.error_class, l.error_message])).toEqual([
      // The JSON parser's wording varies across Node versions; our part of the message does not.
      ['predictions.jsonl', 10, 'decode', expect.stringMatching(/^line 10 is not JSON: /)],
      ['predictions.jsonl', 11, 'validation', 'line 11: prediction: features.amount must be a finite number, got "lots"'],
      ['feedback.jsonl', 11, 'validation', 'label 0.4 is out of range for binary model fraud-detector (expected 0 or 1)'],
    ]);
    expect(letters[0]!.value_text).toBe('{not json');

    const written = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(written).toEqual(summary);
    expect(summary).toMatchObject({
      predictions_read: 10,
      feedback_read: 14,
      labelled: 9,
      corrections: 1,
      duplicates_ignored: 2,
      uncertain: 1,
      superseded: 0,
      unmatched: 1,
      expired_labelled: 0,
      expired_unlabelled: 0,
      pending_at_end: 9,
      dead_letters: 3,
      by_model: {
        'fraud-detector': { predictions: 7, labelled: 7, corrections: 1, expired_labelled: 0, expired_unlabelled: 0 },
        'delivery-eta': { predictions: 2, labelled: 2, corrections: 0, expired_labelled: 0, expired_unlabelled: 0 },
      },
    });

    // The evaluator's figures, by hand. fraud-detector after the correction of tx-003 (0.67: 1 -> 0):
    // tp tx-001, tx-006, tx-007; fp tx-003, tx-005 (0.55); tn tx-002, tx-004; no fn.
    const metrics = readJsonl(join(out, 'metrics.jsonl'));
    const figure = (model: string, metric: string, segment = '*') =>
      metrics.find((m) => m.model === model && m.role === 'champion' && m.window === 'total' && m.segment === segment && m.metric === metric)?.value;
    expect(['tp', 'fp', 'tn', 'fn'].map((m) => figure('fraud-detector', m))).toEqual([3, 2, 2, 0]);
    expect(figure('fraud-detector', 'precision')).toBe(0.6);
    expect(figure('fraud-detector', 'recall')).toBe(1);
    expect(figure('fraud-detector', 'labelled')).toBe(7);
    // delivery-eta: |34.0 - 41.5| and |18.5 - 18.5|.
    expect(figure('delivery-eta', 'mae')).toBe(3.75);
    expect(figure('delivery-eta', 'rmse')).toBeCloseTo(Math.sqrt(7.5 ** 2 / 2), 15);
    expect(metrics.filter((m) => m.segment === 'region=*').length).toBeGreaterThan(0);
    const feedback = readJsonl(join(out, 'feedback.jsonl'));
    expect(feedback.find((f) => f.source === 'user-33')).toMatchObject({ model: 'fraud-detector', labels: 1, overturned: 1, overturned_by_expert: 1 });
    expect(summary.metric_points).toBe(metrics.length);
  });

  it('refuses a missing input file, naming the option', async () => {
    const out = mkdtempSync(join(tmpdir(), 'replay-'));
    await expect(
      replay({
        predictions: join(ROOT, 'examples/missing.jsonl'),
        feedback: join(ROOT, 'examples/feedback.jsonl'),
        out,
        config: loadConfig(undefined, {}),
        clock: new ManualClock(0),
      }),
    ).rejects.toThrow(/--predictions: cannot read .*missing\.jsonl: no such file/);
  });
});
