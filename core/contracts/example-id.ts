/**
 * The example ids the joiner gives the records it writes to labelled-examples:
 *
 *  - `<prediction_id>#<n>` for the n-th labelled, corrected or expired
 *    example of a prediction (n = 1, 2, …: decimal digits);
 *  - `<prediction_id>#arrival` for its arrival record (joiner.emit_arrivals),
 *    written once, when the prediction is accepted.
 *
 * The two never collide: an example id ends in `#` and digits, an arrival id
 * in `#arrival` (whatever the prediction_id holds, `#` included), and each
 * is its prediction_id behind a fixed suffix, so two predictions never share
 * one. Both fit limits.maxExampleIdLength (the id limit plus 17).
 */

/** The suffix of an arrival record's example id. */
export const ARRIVAL_ID_SUFFIX = '#arrival';

/** The n-th example of a prediction. */
export function exampleId(predictionId: string, n: number): string {
  return `${predictionId}#${n}`;
}

/** The arrival record of a prediction. */
export function arrivalExampleId(predictionId: string): string {
  return `${predictionId}${ARRIVAL_ID_SUFFIX}`;
}
