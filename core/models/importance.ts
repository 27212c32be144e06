/**
 * Feature importance of a linear model: its standardised coefficients,
 * the change of the raw score (the logit of a logistic model) for one
 * standard deviation of a numeric feature.
 *
 * Only the numeric features a pipeline's StandardScaler scales have one: the
 * estimator's weight w on the scaled value (x - mean) / std is the raw
 * coefficient w / std times the standard deviation the scaler saw, i.e.
 * w itself. Features the model takes unscaled (NumericFeatures, the FTRL
 * preset) have no standard deviation in the snapshot, and one-hot or
 * hashed columns are not one feature's: none is given for them. A model
 * without a StandardScaler or without linear weights has none (null).
 */
import type { Estimator, OnlineModel } from './model.js';
import { Pipeline } from './pipeline.js';
import { StandardScaler } from './standard-scaler.js';

export interface Importance {
  feature: string;
  /** Standardised coefficient: the weight on the scaled feature. */
  coefficient: number;
}

/** Features kept per snapshot (the largest in absolute value). */
export const MAX_IMPORTANCE = 20;

type Linear = Estimator & { coefficients(): { weights: Float64Array; intercept: number } };

const isLinear = (e: Estimator): e is Linear => typeof (e as Partial<Linear>).coefficients === 'function';

/** The `top` largest standardised coefficients in absolute value (ties by name), or null when the model has none. */
export function standardisedCoefficients(model: OnlineModel | Estimator, top = MAX_IMPORTANCE): Importance[] | null {
  if (!(model instanceof Pipeline) || !isLinear(model.estimator)) return null;
  const scalers = model.encoders.filter((e): e is StandardScaler => e instanceof StandardScaler);
  if (scalers.length === 0) return null;
  const { weights } = model.estimator.coefficients();
  const out: Importance[] = [];
  for (const scaler of scalers) {
    for (const { name, column } of scaler.scaled()) out.push({ feature: name, coefficient: column < weights.length ? weights[column]! : 0 });
  }
  out.sort((a, b) => Math.abs(b.coefficient) - Math.abs(a.coefficient) || (a.feature < b.feature ? -1 : a.feature > b.feature ? 1 : 0));
  return out.slice(0, top);
}
