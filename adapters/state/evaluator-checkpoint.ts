/**
 * An evaluator checkpoint as bytes: the Evaluator's plain state
 * (Evaluator.toState, taken right after a drain) serialized by V8 (which
 * keeps -Infinity, NaN, Maps and typed arrays), with a format version,
 * gzipped at level 1 (the state is mostly binned histograms of small counts
 * and zeros: bench/evaluator-checkpoint.ts prints both sizes).
 * Core holds the state; the bytes are this adapter's (core imports no
 * package, node: builtins included).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { decodeState, encodeState } from './structured.js';
import { Evaluator, fromFormat3, resolveOptions, type EvaluatorOptions, type EvaluatorState } from '../../core/evaluate/index.js';
import { FeedbackloopError, StateMismatchError, errorMessage } from '../../core/errors.js';

/**
 * The format written; a checkpoint of a format not read is not usable. 2: the drift
 * detectors as River's (ADWIN's rows oldest first, a regression model's
 * ScaledAdwin), R² from centred sums, and the settings the state was made
 * under (core/evaluate/settings.ts). 3: a regression model's Page-Hinkley
 * in scale-free units (ScaledPageHinkley: its running scale in the state),
 * and the detector order among the settings; from arrival records, each
 * window's predictions, estimate sums and trust, each binary cell's matured
 * windows (the trust check), the model's arrivals and maturity frontier.
 * 4: each model's data-quality and categorical-drift monitor
 * (core/evaluate/data-quality.ts) and the settings it depends on
 * (evaluator.max_categories, limits.max_features). Format 3 is still read
 * (core/evaluate/settings.ts fromFormat3): its models' data-quality monitors
 * start afresh at the restore, everything else is restored as it was.
 * 5: multi-class and multi-label models' windows (core/evaluate/class-metric.ts:
 * their confusion counts and per-label counts as Float64Arrays, kept exactly by
 * V8's serializer, and a multi-class model's numeric head). A format-4
 * checkpoint has no such model (the evaluator refused them), so it reads as
 * format 5 unchanged.
 */
export const CHECKPOINT_FORMAT = 5;

/** The formats read: this one, 4 (as it is) and 3 (upgraded). */
const READ_FORMATS: readonly unknown[] = [3, 4, CHECKPOINT_FORMAT];

/**
 * A checkpoint that cannot be restored (another format, bytes that do not
 * decode, a state that does not fit the settings: see `cause`). The caller
 * restores without it, re-reading its input.
 */
export class UnusableCheckpointError extends FeedbackloopError {
  constructor(message: string, cause?: unknown) {
    super(`unusable evaluator checkpoint: ${message}`, { retriable: false, cause });
  }
}

export function encodeEvaluatorState(evaluator: Evaluator): Buffer {
  const state: EvaluatorState = evaluator.toState();
  return gzipSync(encodeState({ format: CHECKPOINT_FORMAT, state }), { level: 1 });
}

/** The evaluator of a checkpoint under these options; throws UnusableCheckpointError when it cannot be. */
export function decodeEvaluatorState(buffer: Uint8Array, options: Partial<EvaluatorOptions> = {}): Evaluator {
  let decoded: unknown;
  try {
    decoded = decodeState(gunzipSync(buffer));
  } catch (error) {
    throw new UnusableCheckpointError(`its bytes do not decode (${errorMessage(error)})`, error);
  }
  const format = typeof decoded === 'object' && decoded !== null ? (decoded as { format?: unknown }).format : undefined;
  if (!READ_FORMATS.includes(format)) throw new UnusableCheckpointError(`format ${String(format)}, this version reads formats ${READ_FORMATS.join(', ')}`);
  try {
    const state = (decoded as { state: EvaluatorState }).state;
    return Evaluator.fromState(format === 3 ? fromFormat3(state, resolveOptions(options)) : state, options);
  } catch (error) {
    // A setting changed since (StateMismatchError), or a state of this format that is not whole.
    throw new UnusableCheckpointError(error instanceof StateMismatchError ? error.message : `its state does not restore (${errorMessage(error)})`, error);
  }
}
