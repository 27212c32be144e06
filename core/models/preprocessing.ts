/**
 * Encoders: from the named features of an event to the numbered columns of
 * a SparseVector. A pipeline runs its encoders side by side (like River's
 * TransformerUnion: each writes its own columns) and hands the vector to its
 * estimator.
 *
 *  - NumericFeatures: every numeric feature as it is.
 *  - StandardScaler: every numeric feature standardised by its running mean
 *    and variance (River's `preprocessing.StandardScaler`).
 *  - OneHotEncoder: low-cardinality categoricals, one column per value,
 *    up to `maxCategories` values per feature, then one shared "other"
 *    column for the rest.
 *  - FeatureHasher: high-cardinality categoricals (and optionally numerics)
 *    hashed into a fixed block of columns (River's `preprocessing.FeatureHasher`,
 *    same hash, same buckets, same signs for the same seed).
 *
 * Learning and predicting differ in one way: a feature (or category) never
 * seen before gets a new column when learning, and is skipped when
 * predicting — so a prediction never changes a model, and an unknown feature
 * contributes exactly what a weight of 0 would. Columns are never reused or
 * removed; estimators grow their arrays when a new column appears.
 */
export { ColumnSpace, type Encoder } from './encoder.js';
export { NumericFeatures } from './numeric.js';
export { StandardScaler } from './standard-scaler.js';
export { OneHotEncoder, type OneHotHyperparameters } from './one-hot.js';
export { FeatureHasher, type FeatureHasherHyperparameters } from './feature-hasher.js';
