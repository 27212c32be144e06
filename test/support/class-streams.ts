/**
 * Seeded multi-class and multi-label observation streams for the metric
 * reference tests: probabilities in twentieths (ties, zeros and ones, so the
 * log-loss clip and the top-k tie rule both matter), a class that is never
 * true and one that is never decided (zero divisions), decisions that are
 * not the arg-max, rejections, and optional weights.
 */
import type { MulticlassObservation, MultilabelObservation } from '../../core/metrics/index.js';
import { seededRandom } from './random.js';

export interface ClassStreamOptions {
  /** A class index no example has as its true class. */
  neverTrue?: number;
  /** A class index no example decides. */
  neverPredicted?: number;
  /** Share of the wrong decisions whose true class is then unknown (label -1). Default 0. */
  rejectRate?: number;
  /** Weights from {0.5, 1, 2, 3.25} instead of none. */
  weighted?: boolean;
}

const WEIGHTS = [0.5, 1, 2, 3.25];

/** `units` twentieths spread over `k` classes: each to `favoured` with probability `bias`, else to a class drawn uniformly. */
function twentieths(random: () => number, k: number, favoured: number, bias: number): number[] {
  const units = new Array<number>(k).fill(0);
  for (let u = 0; u < 20; u++) {
    const c = random() < bias ? favoured : Math.floor(random() * k);
    units[c] = units[c]! + 1;
  }
  return units.map((n) => n / 20);
}

/** The first class of highest probability, `skip` aside. */
function argMax(p: readonly number[], skip: number | undefined): number {
  let best = -1;
  for (let c = 0; c < p.length; c++) if (c !== skip && (best < 0 || p[c]! > p[best]!)) best = c;
  return best;
}

export function multiclassStream(seed: number, n: number, k: number, options: ClassStreamOptions = {}): MulticlassObservation[] {
  const random = seededRandom(seed);
  const { neverTrue, neverPredicted, rejectRate = 0, weighted = false } = options;
  return Array.from({ length: n }, () => {
    let label = Math.floor(random() * random() * k); // skewed towards the first classes
    if (label === neverTrue) label = (label + 1) % k;
    const probabilities = twentieths(random, k, label, 0.15 + 0.5 * random());
    let predicted = argMax(probabilities, neverPredicted);
    if (random() < 0.1) predicted = Math.floor(random() * k); // a decision given, not the arg-max
    if (predicted === neverPredicted) predicted = (predicted + 1) % k;
    if (predicted !== label && random() < rejectRate) label = -1;
    const o: MulticlassObservation = { label, predicted, probabilities };
    if (weighted) o.weight = WEIGHTS[Math.floor(random() * WEIGHTS.length)]!;
    return o;
  });
}

export function multilabelStream(seed: number, n: number, labels: number, options: Omit<ClassStreamOptions, 'rejectRate'> = {}): MultilabelObservation[] {
  const random = seededRandom(seed);
  const { neverTrue, neverPredicted, weighted = false } = options;
  const base = Array.from({ length: labels }, (_, l) => (l === neverTrue ? 0 : 0.1 + 0.5 * random()));
  return Array.from({ length: n }, () => {
    const truth = new Uint8Array(labels);
    const predicted = new Uint8Array(labels);
    const probabilities: number[] = [];
    for (let l = 0; l < labels; l++) {
      truth[l] = random() < base[l]! ? 1 : 0;
      const p = Math.min(20, Math.max(0, Math.round(20 * (truth[l]! ? 0.7 : 0.3) + (random() - 0.5) * 32))) / 20;
      probabilities.push(p);
      const flipped = random() < 0.05; // a decision not at the 0.5 threshold
      predicted[l] = l !== neverPredicted && (p >= 0.5) !== flipped ? 1 : 0;
    }
    const o: MultilabelObservation = { labels: truth, predicted, probabilities };
    if (weighted) o.weight = WEIGHTS[Math.floor(random() * WEIGHTS.length)]!;
    return o;
  });
}
