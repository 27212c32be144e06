/** Every event validator of core/events.ts, by the name of its Avro schema (for tests that go through them all). */
import { validateFeedback, validateLabelledExample, validateModelSnapshot, validatePrediction, validatePromotionDecision } from '../../core/events.js';

export const VALIDATORS = {
  Prediction: validatePrediction,
  Feedback: validateFeedback,
  LabelledExample: validateLabelledExample,
  ModelSnapshot: validateModelSnapshot,
  PromotionDecision: validatePromotionDecision,
} as const;

export type ValidatedName = keyof typeof VALIDATORS;

export const VALIDATED_NAMES = Object.keys(VALIDATORS) as ValidatedName[];
