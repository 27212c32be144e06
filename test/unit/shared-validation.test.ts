/**
 * processors/decode.ts's SharedContract: of an event the in-process log
 * carries beside its bytes, the readers that validate it under the same
 * contract and equal limits get one validated copy; other limits get their
 * own (and their own refusals); an event decoded from bytes is validated
 * per reader as before.
 */
import { describe, expect, it } from 'vitest';
import { LocalCodec } from '../../adapters/codec/codec.js';
import type { Codec } from '../../adapters/codec/codec.js';
import type { LogRecord } from '../../adapters/transport/transport.js';
import { validateLabelledExample, type LabelledExample } from '../../core/events.js';
import { DEFAULT_RECORD_LIMITS } from '../../core/limits.js';
import { decodeRecord, type SharedContract } from '../../processors/decode.js';
import { SAMPLES } from '../support/samples.js';

const codec = new LocalCodec<LabelledExample>('LabelledExample') as Codec<unknown>;

function record(decoded: unknown, value: Buffer | null = null): LogRecord {
  return { topic: 'labelled', partition: 0, offset: 3, key: null, value, timestamp: 1, headers: {}, ...(decoded === undefined ? {} : { decoded }) };
}

const contract = (limits = DEFAULT_RECORD_LIMITS): SharedContract<LabelledExample> => ({ contract: validateLabelledExample, limits });

async function value(r: LogRecord, c: SharedContract<LabelledExample>): Promise<LabelledExample> {
  const d = await decodeRecord(r, codec, c, 'test', 0);
  if (!d.ok) throw new Error(d.letter.error_message);
  return d.value;
}

describe('one validated copy per carried event, contract and limits', () => {
  it('readers with equal limits share one copy, equal to the event; other limits make their own', async () => {
    const event = { ...SAMPLES.LabelledExample };
    const r = record(event);
    const first = await value(r, contract());
    expect(first).not.toBe(event); // a copy, as validation makes
    expect(first).toEqual(validateLabelledExample(event));
    expect(await value(r, contract())).toBe(first);
    expect(await value(r, contract({ ...DEFAULT_RECORD_LIMITS }))).toBe(first); // equal, not the same object
    const wider = await value(r, contract({ ...DEFAULT_RECORD_LIMITS, maxIdLength: 1000 }));
    expect(wider).not.toBe(first);
    expect(wider).toEqual(first);
    // Another event (another record): another copy.
    expect(await value(record({ ...event }), contract())).not.toBe(first);
  });

  it("a writer's validated copy (OutgoingRecord.validated) is taken as it is under the same contract and equal limits", async () => {
    const event = validateLabelledExample({ ...SAMPLES.LabelledExample });
    const r = { ...record(event), validated: { contract: validateLabelledExample, limits: DEFAULT_RECORD_LIMITS, value: event } };
    expect(await value(r, contract({ ...DEFAULT_RECORD_LIMITS }))).toBe(event);
    const own = await value(r, contract({ ...DEFAULT_RECORD_LIMITS, maxClasses: 3 }));
    expect(own).not.toBe(event);
    expect(own).toEqual(event);
    // Another contract never takes it.
    const other = (v: unknown, l: typeof DEFAULT_RECORD_LIMITS) => validateLabelledExample(v, l);
    expect(await value(r, { contract: other, limits: DEFAULT_RECORD_LIMITS })).not.toBe(event);
  });

  it('a reader whose limits refuse the event dead-letters it, whatever another reader accepted', async () => {
    const r = record({ ...SAMPLES.LabelledExample, model: 'm'.repeat(40) });
    await value(r, contract());
    const d = await decodeRecord(r, codec, contract({ ...DEFAULT_RECORD_LIMITS, maxIdLength: 39 }), 'test', 0);
    expect(d.ok).toBe(false);
    expect(!d.ok && d.letter.error_message).toBe('prediction: model is 40 characters long, more than limits.max_id_length (39), got "' + 'm'.repeat(40) + '"');
  });

  it('an event decoded from bytes: a copy per reader', async () => {
    const r = record(undefined, await codec.encode(SAMPLES.LabelledExample));
    const a = await value(r, contract());
    const b = await value(r, contract());
    expect(a).toEqual(b);
    expect(a).not.toBe(b);
  });
});
