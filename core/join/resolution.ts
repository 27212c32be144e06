/**
 * Label resolution (docs/architecture.md, "Event contracts"): trust order EXPERT_REVIEW > AUTO_VALIDATED >
 * USER_CONFIRMED = USER_REJECTED; among equal trust the later feedback (by
 * its timestamp) wins. A null label on a binary model: CONFIRMED = the
 * prediction was right, REJECTED = it was wrong.
 */
import type { Feedback, FeedbackType, ModelKind, Prediction } from '../events.js';

export const TRUST: Record<FeedbackType, number> = {
  EXPERT_REVIEW: 3,
  AUTO_VALIDATED: 2,
  USER_CONFIRMED: 1,
  USER_REJECTED: 1,
};

/** The class a binary prediction predicted: 1 when score >= threshold. */
export function predictedClass(prediction: Prediction): number {
  return prediction.score >= prediction.threshold ? 1 : 0;
}

/** The label a feedback says, or why it says none (a reason for the dead-letter record). */
export function labelFrom(feedback: Feedback, prediction: Prediction, kind: ModelKind): { label: number } | { reason: string } {
  const label = feedback.label;
  if (label !== null) {
    if (kind === 'binary' && label !== 0 && label !== 1) {
      return { reason: `label ${label} is out of range for binary model ${prediction.model} (expected 0 or 1)` };
    }
    return { label };
  }
  if (feedback.feedback_type === 'USER_CONFIRMED') {
    return { label: kind === 'binary' ? predictedClass(prediction) : prediction.score };
  }
  if (feedback.feedback_type === 'USER_REJECTED' && kind === 'binary') {
    return { label: 1 - predictedClass(prediction) };
  }
  return {
    reason:
      feedback.feedback_type === 'USER_REJECTED'
        ? `USER_REJECTED without a label on regression model ${prediction.model} says the value was wrong but not what it was`
        : `${feedback.feedback_type} feedback without a label gives no outcome`,
  };
}

/** Does `candidate` (trust, timestamp) take over from the label in force? Equal trust: the later (or equally late, arriving later) wins. */
export function outranks(trust: number, timestamp: number, current: { trust: number; feedback_timestamp: number }): boolean {
  return trust > current.trust || (trust === current.trust && timestamp >= current.feedback_timestamp);
}

/** 32-bit FNV-1a of every field of a feedback: equal hashes within one prediction mean an exact duplicate. */
export function feedbackHash(feedback: Feedback): number {
  const text = `${feedback.timestamp}|${feedback.feedback_type}|${feedback.label}|${feedback.uncertain}|${feedback.source ?? '\u0000'}|${feedback.notes ?? '\u0000'}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
