/**
 * Predictions packed as their Avro body in a one-byte (latin1) string, for
 * the replay's join store (core/join/packed-store.ts). Lossless for every
 * prediction the schema can encode: a prediction read from the log was
 * decoded from this very schema, so unpacking gives an equal object.
 */
import type { Prediction } from '../../core/events.js';
import type { Packing } from '../../core/join/index.js';
import { loadSchema } from './schemas.js';

export function avroPredictionPacking(): Packing {
  const type = loadSchema('Prediction').type;
  return {
    pack: (prediction) => type.toBuffer(prediction).toString('latin1'),
    unpack: (packed) => type.fromBuffer(Buffer.from(packed, 'latin1')) as Prediction,
  };
}
