/**
 * A multiclass example as the paired test sees it (issue 16): each role's
 * score becomes its probability of the true class, so the test's loss is the
 * multi-class log loss −log p(true class), clipped as core/metrics/multiclass.ts
 * clips (MULTICLASS_LOG_LOSS_EPSILON; loss.ts, metric `multiclass_log_loss`).
 *
 *  - the champion served by upstream (or, after a promotion, one of our
 *    snapshots once upstream serves it): the prediction's `class_scores`
 *    (a class it leaves out has probability 0);
 *  - our challengers and the previous champion: their `<key>#<i>` entries of
 *    `shadow_scores` (contracts/shadow-key.ts), i the true class's position in
 *    models.<name>.classes; the projected example carries them under `<key>`,
 *    so scores.ts follows versions exactly as for a binary model. A version
 *    without the true class's entry is not paired.
 *
 * An example that says only which class it was not (rejected_class without
 * label_class) has no true class: it is not compared (`undefined`, counted in
 * the policy's `rejections`). The projected example's `label` is 1 (unused by
 * the multiclass loss); everything else is the example's own.
 */
import { parseClassShadowKey } from '../contracts/index.js';
import type { LabelledExample } from '../events.js';

/** The example with each role's probability of its true class as its score (see the file comment), or undefined for a rejection only. */
export function trueClassView(example: LabelledExample, classes: readonly string[]): LabelledExample | undefined {
  const truth = example.label_class;
  if (truth === null) return undefined;
  const index = classes.indexOf(truth);
  if (index < 0) return undefined; // the joiner refuses a class outside the model's: not reached
  const shadow: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const key in example.shadow_scores) {
    const parsed = parseClassShadowKey(key);
    if (parsed !== undefined && parsed.classIndex === index) shadow[parsed.key] = example.shadow_scores[key]!;
  }
  const served = Object.hasOwn(example.class_scores, truth) ? example.class_scores[truth]! : 0;
  return { ...example, label: 1, score: served, shadow_scores: shadow };
}
