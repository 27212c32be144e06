export { PSI_EPSILON, quantileEdges, binOf, histogram, psi, kolmogorovSmirnov, kolmogorovSmirnovSorted, kolmogorovSurvival } from './distribution.js';
export { PageHinkley, DDM, ADWIN, type DriftDetector, type PageHinkleyOptions, type DdmOptions, type AdwinOptions, type PageHinkleyState, type DdmState, type AdwinState } from './detectors.js';
export { ScaledAdwin, type ScaledAdwinOptions, type ScaledAdwinState } from './scaled-adwin.js';
export { ScaledPageHinkley, type ScaledPageHinkleyState } from './scaled-page-hinkley.js';
export { logGamma, gammaQ, chiSquaredSurvival, chiSquaredCritical } from './chi-squared.js';
export { CategoryTable, categoricalDrift, chiSquared, jensenShannon, type CategoryCounts, type CategoricalFigures } from './categorical.js';
