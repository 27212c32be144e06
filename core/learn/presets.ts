/**
 * Named challenger presets: what `models.<name>.challengers` in the config
 * lists. Each builds an untrained OnlineModel pipeline (encoders, then an
 * estimator) for a model kind; numeric features are standardised online, low-
 * cardinality categoricals one-hot encoded (up to 32 values a feature, the
 * rest share an "other" column), and the FTRL preset hashes categoricals
 * into 4,096 buckets (snapshots are dense: keep hashed blocks small).
 *
 * The multiclass presets mirror the binary ones (`softmax` as `logreg`,
 * `softmax_adagrad`, `softmax_adam`, `ovr_logreg`: one-vs-rest over `logreg`'s
 * logistic regression, `naive_bayes_multiclass` as `naive_bayes`); they are
 * built with the model's configured classes (models.<name>.classes), fixed and
 * in that order, so a snapshot's probabilities are by class position.
 *
 * The multilabel presets are binary relevance (one logistic regression per
 * label, `br_logreg` as `logreg`, `br_logreg_adagrad` as `logreg_adagrad`),
 * built with the model's configured labels, fixed and in that order.
 */
import {
  BinaryRelevance, MultilabelPipeline, FeatureHasher, FTRLLogisticRegression, GaussianNB, GaussianNBMulticlass, LinearRegression, LogisticRegression, MulticlassPipeline, NumericFeatures,
  OneHotEncoder, OneVsRest, PAClassifier, PARegressor, Pipeline, SoftmaxRegression, StandardScaler, adagrad, adam, sgd,
} from '../models/index.js';
import type { ChallengerModel } from './challenger-model.js';
import { ModelError } from '../models/index.js';
import type { ModelKind } from '../events.js';

const scaled = () => [new StandardScaler(), new OneHotEncoder({ maxCategories: 32 })];

/** Preset name -> the kind of model it is for (`task`, as the config's `models.<name>.task`), its description and builder (multiclass: given the classes). */
export const PRESETS: Record<string, { task: ModelKind; doc: string; build: (classes: readonly string[]) => ChallengerModel }> = {
  logreg: { task: 'binary', doc: 'standard scaler + one-hot + logistic regression (SGD, lr 0.01)', build: () => new Pipeline(scaled(), new LogisticRegression({ optimizer: sgd(0.01) })) },
  logreg_adagrad: { task: 'binary', doc: 'standard scaler + one-hot + logistic regression (AdaGrad, lr 0.1)', build: () => new Pipeline(scaled(), new LogisticRegression({ optimizer: adagrad(0.1) })) },
  logreg_adam: { task: 'binary', doc: 'standard scaler + one-hot + logistic regression (Adam, lr 0.01)', build: () => new Pipeline(scaled(), new LogisticRegression({ optimizer: adam(0.01) })) },
  ftrl: { task: 'binary', doc: 'numeric features + hashed categoricals (4,096 buckets) + FTRL-Proximal logistic regression', build: () => new Pipeline([new NumericFeatures(), new FeatureHasher({ buckets: 4096 })], new FTRLLogisticRegression()) },
  pa: { task: 'binary', doc: 'standard scaler + one-hot + Passive-Aggressive classifier (PA-I, C = 1)', build: () => new Pipeline(scaled(), new PAClassifier()) },
  naive_bayes: { task: 'binary', doc: 'numeric features + Gaussian naive Bayes', build: () => new Pipeline([new NumericFeatures()], new GaussianNB()) },
  linreg: { task: 'regression', doc: 'standard scaler + one-hot + linear regression (SGD, lr 0.01)', build: () => new Pipeline(scaled(), new LinearRegression({ optimizer: sgd(0.01) })) },
  linreg_adam: { task: 'regression', doc: 'standard scaler + one-hot + linear regression (Adam, lr 0.01)', build: () => new Pipeline(scaled(), new LinearRegression({ optimizer: adam(0.01) })) },
  pa_regressor: { task: 'regression', doc: 'standard scaler + one-hot + Passive-Aggressive regressor', build: () => new Pipeline(scaled(), new PARegressor()) },
  softmax: { task: 'multiclass', doc: 'standard scaler + one-hot + softmax regression (SGD, lr 0.01)', build: (classes) => new MulticlassPipeline(scaled(), new SoftmaxRegression({ optimizer: sgd(0.01), classes })) },
  softmax_adagrad: { task: 'multiclass', doc: 'standard scaler + one-hot + softmax regression (AdaGrad, lr 0.1)', build: (classes) => new MulticlassPipeline(scaled(), new SoftmaxRegression({ optimizer: adagrad(0.1), classes })) },
  softmax_adam: { task: 'multiclass', doc: 'standard scaler + one-hot + softmax regression (Adam, lr 0.01)', build: (classes) => new MulticlassPipeline(scaled(), new SoftmaxRegression({ optimizer: adam(0.01), classes })) },
  ovr_logreg: {
    task: 'multiclass',
    doc: 'standard scaler + one-hot + one-vs-rest logistic regressions (SGD, lr 0.01), probabilities normalised',
    build: (classes) => new MulticlassPipeline(scaled(), new OneVsRest(new LogisticRegression({ optimizer: sgd(0.01) }), { classes })),
  },
  br_logreg: {
    task: 'multilabel',
    doc: 'standard scaler + one-hot + binary relevance: one logistic regression (SGD, lr 0.01) per label',
    build: (classes) => new MultilabelPipeline(scaled(), new BinaryRelevance(new LogisticRegression({ optimizer: sgd(0.01) }), { classes })),
  },
  br_logreg_adagrad: {
    task: 'multilabel',
    doc: 'standard scaler + one-hot + binary relevance: one logistic regression (AdaGrad, lr 0.1) per label',
    build: (classes) => new MultilabelPipeline(scaled(), new BinaryRelevance(new LogisticRegression({ optimizer: adagrad(0.1) }), { classes })),
  },
  naive_bayes_multiclass: { task: 'multiclass', doc: 'numeric features + multi-class Gaussian naive Bayes', build: (classes) => new MulticlassPipeline([new NumericFeatures()], new GaussianNBMulticlass({ classes })) },
};

/** `challengers: [none]`: no challenger of ours (a model whose candidates all come from upstream). */
export const NO_CHALLENGERS = 'none';

/** The challengers a model gets when its config names none. */
export function defaultChallengers(kind: ModelKind): string[] {
  switch (kind) {
    case 'binary':
      return ['logreg'];
    case 'multiclass':
      return ['softmax'];
    case 'multilabel':
      return ['br_logreg'];
    default:
      return ['linreg'];
  }
}

/** The presets the learner trains for a model: those configured, `[none]`: none, empty: the default. */
export function challengerNames(configured: readonly string[], kind: ModelKind): string[] {
  if (configured.length === 1 && configured[0] === NO_CHALLENGERS) return [];
  return configured.length > 0 ? [...configured] : defaultChallengers(kind);
}

/** An untrained challenger of preset `name` for a model of `kind` (multiclass, multilabel: with the model's `classes`, in order). */
export function createChallenger(name: string, kind: ModelKind, classes: readonly string[] = []): ChallengerModel {
  const preset = Object.hasOwn(PRESETS, name) ? PRESETS[name] : undefined;
  if (!preset) throw new ModelError(`unknown challenger preset ${JSON.stringify(name)} (known: ${Object.keys(PRESETS).join(', ')})`);
  if (preset.task !== kind) throw new ModelError(`challenger preset ${name} is for ${preset.task} models, not ${kind}`);
  if ((kind === 'multiclass' || kind === 'multilabel') && classes.length < 2) throw new ModelError(`challenger preset ${name} needs the model's classes (models.<name>.classes), got ${classes.length}`);
  return preset.build(classes);
}
