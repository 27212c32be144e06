/**
 * A prediction's upstream `shadow_scores` (core/events.ts): bounded, finite,
 * and kept out of the names feedbackloop's own shadow scores use, so an
 * upstream candidate can never be read as one of our snapshots or as the
 * previous champion; the joiner carries them beside ours.
 */
import { describe, expect, it } from 'vitest';
import { MAX_UPSTREAM_CANDIDATES, noFeedbackClasses, validatePrediction } from '../../core/events.js';
import { Joiner, MemoryJoinStore } from '../../core/join/index.js';
import { samplePrediction } from '../support/samples.js';

const refusal = (shadow_scores: unknown) => {
  try {
    validatePrediction({ ...samplePrediction(), shadow_scores });
    return 'accepted';
  } catch (error) {
    return (error as Error).message;
  }
};

describe('upstream shadow scores', () => {
  it('accepts up to the bound of finite scores under the candidates\' own versions', () => {
    const many = Object.fromEntries(Array.from({ length: MAX_UPSTREAM_CANDIDATES }, (_, i) => [`cand-${i}`, i / 16]));
    expect(refusal(many)).toBe('accepted');
    expect(validatePrediction({ ...samplePrediction(), shadow_scores: { 'gbm-v8': 0.25 } }).shadow_scores).toEqual({ 'gbm-v8': 0.25 });
    expect(validatePrediction({ ...samplePrediction(), shadow_scores: undefined }).shadow_scores).toEqual({});
  });

  it('refuses one too many, a non-finite score, and the names of our own shadow scores', () => {
    const tooMany = Object.fromEntries(Array.from({ length: MAX_UPSTREAM_CANDIDATES + 1 }, (_, i) => [`cand-${i}`, 0.5]));
    expect(refusal(tooMany)).toMatch(/shadow_scores/);
    expect(refusal({ 'gbm-v8': Number.NaN })).toBe('prediction: shadow_scores.gbm-v8 must be a finite number, got NaN');
    expect(refusal({ 'previous:v6': 0.5 })).toMatch(/shadow_scores key "previous:v6" is reserved/);
    expect(refusal({ 'fraud-detector/logreg@3': 0.5 })).toMatch(/shadow_scores key "fraud-detector\/logreg@3" is reserved/);
  });

  it('the joiner carries them beside its own challengers\' scores, in the arrival and the labelled example', () => {
    const joiner = new Joiner(new MemoryJoinStore(), { emitArrivals: true, shadowScorer: { score: () => ({ 'fraud-detector/logreg@3': 0.61 }) } });
    const arrival = joiner.onPrediction(samplePrediction({ shadow_scores: { 'gbm-v8': 0.25 } }));
    const labelled = joiner.onFeedback({ prediction_id: 'p-1', timestamp: 1_763_946_000_000, feedback_type: 'EXPERT_REVIEW', label: 1, uncertain: false, source: null, notes: null, ...noFeedbackClasses() });
    for (const out of [...arrival, ...labelled]) {
      expect(out.kind === 'arrival' || out.kind === 'example' ? { ...out.example.shadow_scores } : out).toEqual({ 'gbm-v8': 0.25, 'fraud-detector/logreg@3': 0.61 });
    }
    expect(arrival.length + labelled.length).toBe(2);
  });
});

describe('challengers: [none]', () => {
  it('a model whose candidates all come from upstream: the learner trains nothing, the config takes none alone', async () => {
    const { buildConfig } = await import('../../adapters/config/index.js');
    const { ChallengerTrainer } = await import('../../core/learn/trainer.js');
    const { SAMPLES } = await import('../support/samples.js');
    const config = buildConfig({ models: { fraud: { challengers: ['none'] } } });
    expect(config.models.fraud!.challengers).toEqual(['none']);
    expect(() => buildConfig({ models: { fraud: { challengers: ['none', 'logreg'] } } })).toThrow(/none stands alone/);
    const example = { ...SAMPLES.LabelledExample, model: 'fraud' };
    const trained = (challengers: string[]) => {
      const trainer = new ChallengerTrainer({ challengersOf: () => challengers, kindOf: () => 'binary' });
      trainer.learn(example);
      return trainer.snapshot(example.timestamp).map((snapshot) => snapshot.challenger);
    };
    expect(trained(['none'])).toEqual([]);
    expect(trained([])).toEqual(['logreg']);
  });
});
