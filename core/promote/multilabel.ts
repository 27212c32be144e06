/**
 * A multilabel example as the paired test sees it (issue 16): each role's
 * score becomes its multi-label log loss on the example, the mean over the
 * model's labels of the binary log loss, −ln p when label l applies and
 * −ln(1 − p) when not, the probability of what happened clipped to
 * [ε, 1 − ε] (ε = 2^−52) exactly as core/metrics/multilabel.ts clips. Over n
 * examples the mean of these equals the mean over labels of scikit-learn's
 * log_loss(Y[:, l], P[:, l], labels=[0, 1]) (to rounding; sklearn clips p
 * before taking 1 − p), the evaluator's multilabel log_loss. The loss
 * (loss.ts, metric `multilabel_log_loss`) then takes the score as it is.
 *
 *  - the champion served by upstream (or one of our snapshots once upstream
 *    serves it): the prediction's `class_scores` (a label it leaves out has
 *    probability 0: a prediction that gave only predicted_labels is scored
 *    as if it gave 0 to every label);
 *  - our challengers and the previous champion: their `<key>#<i>` entries of
 *    `shadow_scores` (contracts/shadow-key.ts), i the label's position in
 *    models.<name>.classes; the projected example carries each version's loss
 *    under `<key>`, so scores.ts follows versions exactly as for a binary
 *    model. A version missing some label's entry is not paired.
 *
 * The projected example's `label` is 1 (unused by the loss); everything else
 * is the example's own. Only labelled examples (`labels` set) are projected.
 */
import { parseClassShadowKey } from '../contracts/index.js';
import type { LabelledExample } from '../events.js';
import { MULTICLASS_LOG_LOSS_EPSILON as EPSILON } from '../metrics/index.js';

/** The mean binary log loss over the labels of probabilities `p` (by label position) given the true set (0/1 by position). */
export function multilabelLogLoss(truth: Uint8Array, p: ArrayLike<number>): number {
  let sum = 0;
  for (let l = 0; l < truth.length; l++) {
    const q = truth[l] === 1 ? p[l]! : 1 - p[l]!;
    sum -= Math.log(Math.min(1 - EPSILON, Math.max(EPSILON, q)));
  }
  return sum / truth.length;
}

/** The example with each role's multi-label log loss as its score (see the file comment); undefined when it has no true set. */
export function labelSetView(example: LabelledExample, classes: readonly string[]): LabelledExample | undefined {
  if (example.labels === null) return undefined;
  const truth = new Uint8Array(classes.length);
  for (const label of example.labels) {
    const l = classes.indexOf(label);
    if (l >= 0) truth[l] = 1; // the joiner refuses a label outside the model's
  }
  const served = classes.map((name) => (Object.hasOwn(example.class_scores, name) ? example.class_scores[name]! : 0));
  const byVersion = new Map<string, Float64Array>();
  for (const key in example.shadow_scores) {
    const parsed = parseClassShadowKey(key);
    if (parsed === undefined || parsed.classIndex >= classes.length) continue;
    let p = byVersion.get(parsed.key);
    if (p === undefined) {
      p = new Float64Array(classes.length).fill(Number.NaN);
      byVersion.set(parsed.key, p);
    }
    p[parsed.classIndex] = example.shadow_scores[key]!;
  }
  const shadow: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [key, p] of byVersion) if (!p.some(Number.isNaN)) shadow[key] = multilabelLogLoss(truth, p);
  return { ...example, label: 1, score: multilabelLogLoss(truth, served), shadow_scores: shadow };
}
