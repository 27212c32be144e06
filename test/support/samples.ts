import type { DeadLetter, Feedback, LabelledExample, ModelSnapshot, Prediction, PromotionDecision } from '../../core/events.js';

export function samplePrediction(overrides: Partial<Prediction> = {}): Prediction {
  return {
    prediction_id: 'p-1',
    model: 'fraud-detector',
    model_version: 'v7',
    timestamp: 1_763_942_400_000,
    features: { amount: 129.5, age_days: 412 },
    categorical: { country: 'DE' },
    segments: { region: 'eu' },
    score: 0.83,
    threshold: 0.5, shadow_scores: {},
    ...overrides,
  };
}

export function sampleFeedback(overrides: Partial<Feedback> = {}): Feedback {
  return {
    prediction_id: 'p-1',
    timestamp: 1_763_946_000_000,
    feedback_type: 'EXPERT_REVIEW',
    label: 1,
    uncertain: false,
    source: 'analyst-17',
    notes: null,
    ...overrides,
  };
}

export const SAMPLES = {
  Prediction: samplePrediction(),
  Feedback: sampleFeedback(),
  LabelledExample: {
    example_id: 'p-1#1',
    prediction_id: 'p-1',
    model: 'fraud-detector',
    model_version: 'v7',
    timestamp: 1_763_942_400_000,
    features: { amount: 129.5 },
    categorical: {},
    segments: { region: 'eu' },
    score: 0.83,
    threshold: 0.5,
    label: 1,
    feedback_type: 'EXPERT_REVIEW',
    source: 'analyst-17',
    feedback_timestamp: 1_763_946_000_000,
    label_delay_ms: 3_600_000,
    correction_of: null,
    shadow_scores: { 'fraud-detector/logreg@3': 0.71 },
    replaces: null, arrival: false,
  } satisfies LabelledExample,
  ModelSnapshot: {
    model: 'fraud-detector',
    version: 'fraud-detector/logreg@3',
    challenger: 'logreg',
    algorithm: 'logistic_regression',
    parameters: '{"weights":[0.1,0.2]}',
    feature_schema: [
      { name: 'amount', kind: 'NUMERIC' },
      { name: 'country', kind: 'CATEGORICAL' },
    ],
    training_count: 3000,
    data_hash: 'abc123',
    parent_version: 'fraud-detector/logreg@2',
    created_at: 1_763_950_000_000,
  } satisfies ModelSnapshot,
  PromotionDecision: {
    decision_id: 'd-1',
    model: 'fraud-detector',
    from_version: 'v7',
    to_version: 'fraud-detector/logreg@3',
    decision: 'PROMOTE',
    policy: 'msprt(alpha=0.05)',
    statistic: 3.2,
    p_value: 0.01,
    bound: null,
    alpha: 0.05,
    sample_size: 5000,
    metric_deltas: { log_loss: -0.02 },
    guardrails: { recall_drop: 0.004 },
    reason: 'challenger log loss lower by 0.02 (always-valid p 0.01 < 0.05)',
    actor: 'auto',
    at: 1_763_960_000_000,
    decided_at: 1_763_960_000_123,
  } satisfies PromotionDecision,
  DeadLetter: {
    topic: 'predictions',
    partition: 2,
    offset: 41,
    key: Buffer.from('p-9'),
    value: Buffer.from([0xde, 0xad, 0xbe, 0xef]),
    error_class: 'decode',
    error_message: 'record does not start with the Confluent magic byte 0',
    stage: 'joiner',
    failed_at: 1_763_960_000_000,
  } satisfies DeadLetter,
};
