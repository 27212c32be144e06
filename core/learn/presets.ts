/**
 * Named challenger presets: what `models.<name>.challengers` in the config
 * lists. Each builds an untrained OnlineModel pipeline (encoders, then an
 * estimator) for a model kind; numeric features are standardised online, low-
 * cardinality categoricals one-hot encoded (up to 32 values a feature, the
 * rest share an "other" column), and the FTRL preset hashes categoricals
 * into 4,096 buckets (snapshots are dense: keep hashed blocks small).
 */
import {
  FeatureHasher, FTRLLogisticRegression, GaussianNB, LinearRegression, LogisticRegression, NumericFeatures, OneHotEncoder,
  PAClassifier, PARegressor, Pipeline, StandardScaler, adagrad, adam, sgd,
} from '../models/index.js';
import { ModelError } from '../models/index.js';
import type { ModelKind } from '../events.js';

const scaled = () => [new StandardScaler(), new OneHotEncoder({ maxCategories: 32 })];

/** Preset name -> the kind of model it is for (`task`, as the config's `models.<name>.task`), its description and builder. */
export const PRESETS: Record<string, { task: ModelKind; doc: string; build: () => Pipeline }> = {
  logreg: { task: 'binary', doc: 'standard scaler + one-hot + logistic regression (SGD, lr 0.01)', build: () => new Pipeline(scaled(), new LogisticRegression({ optimizer: sgd(0.01) })) },
  logreg_adagrad: { task: 'binary', doc: 'standard scaler + one-hot + logistic regression (AdaGrad, lr 0.1)', build: () => new Pipeline(scaled(), new LogisticRegression({ optimizer: adagrad(0.1) })) },
  logreg_adam: { task: 'binary', doc: 'standard scaler + one-hot + logistic regression (Adam, lr 0.01)', build: () => new Pipeline(scaled(), new LogisticRegression({ optimizer: adam(0.01) })) },
  ftrl: { task: 'binary', doc: 'numeric features + hashed categoricals (4,096 buckets) + FTRL-Proximal logistic regression', build: () => new Pipeline([new NumericFeatures(), new FeatureHasher({ buckets: 4096 })], new FTRLLogisticRegression()) },
  pa: { task: 'binary', doc: 'standard scaler + one-hot + Passive-Aggressive classifier (PA-I, C = 1)', build: () => new Pipeline(scaled(), new PAClassifier()) },
  naive_bayes: { task: 'binary', doc: 'numeric features + Gaussian naive Bayes', build: () => new Pipeline([new NumericFeatures()], new GaussianNB()) },
  linreg: { task: 'regression', doc: 'standard scaler + one-hot + linear regression (SGD, lr 0.01)', build: () => new Pipeline(scaled(), new LinearRegression({ optimizer: sgd(0.01) })) },
  linreg_adam: { task: 'regression', doc: 'standard scaler + one-hot + linear regression (Adam, lr 0.01)', build: () => new Pipeline(scaled(), new LinearRegression({ optimizer: adam(0.01) })) },
  pa_regressor: { task: 'regression', doc: 'standard scaler + one-hot + Passive-Aggressive regressor', build: () => new Pipeline(scaled(), new PARegressor()) },
};

/** `challengers: [none]`: no challenger of ours (a model whose candidates all come from upstream). */
export const NO_CHALLENGERS = 'none';

/** The challengers a model gets when its config names none. */
export function defaultChallengers(kind: ModelKind): string[] {
  return kind === 'binary' ? ['logreg'] : ['linreg'];
}

/** The presets the learner trains for a model: those configured, `[none]`: none, empty: the default. */
export function challengerNames(configured: readonly string[], kind: ModelKind): string[] {
  if (configured.length === 1 && configured[0] === NO_CHALLENGERS) return [];
  return configured.length > 0 ? [...configured] : defaultChallengers(kind);
}

export function createChallenger(name: string, kind: ModelKind): Pipeline {
  const preset = Object.hasOwn(PRESETS, name) ? PRESETS[name] : undefined;
  if (!preset) throw new ModelError(`unknown challenger preset ${JSON.stringify(name)} (known: ${Object.keys(PRESETS).join(', ')})`);
  if (preset.task !== kind) throw new ModelError(`challenger preset ${name} is for ${preset.task} models, not ${kind}`);
  return preset.build();
}
