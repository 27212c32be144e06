/**
 * A feed (processors/topic-feed.ts) skips what it cannot read and goes on;
 * but a registry that is down is no reason to skip: that error is thrown, so
 * the batch is read again (the promoter once skipped manual decisions while
 * the registry was down).
 */
import { describe, expect, it } from 'vitest';
import { LocalCodec } from '../../adapters/codec/codec.js';
import type { LogRecord } from '../../adapters/transport/transport.js';
import { FeedbackloopError } from '../../core/errors.js';
import type { PromotionDecision } from '../../core/events.js';
import { applyRecords } from '../../processors/topic-feed.js';
import { SAMPLES } from '../support/samples.js';

const codec = new LocalCodec<PromotionDecision>('PromotionDecision');
const record = (value: Buffer | null, offset: number): LogRecord => ({ topic: 'promotions', partition: 0, offset, key: null, value, timestamp: 0, headers: {} });

describe('topic feed', () => {
  it('skips (and reports) a record it cannot read, applies the rest', async () => {
    const good = await codec.encode(SAMPLES.PromotionDecision as PromotionDecision);
    const applied: number[] = [];
    const skipped: number[] = [];
    await applyRecords([record(good, 0), record(Buffer.from('garbage'), 1), record(good, 2)], {
      codec,
      apply: (_d, r) => void applied.push(r.offset),
      onSkipped: (_e, r) => void skipped.push(r.offset),
    });
    expect(applied).toEqual([0, 2]);
    expect(skipped).toEqual([1]);
  });

  it('throws an error a retry can mend instead of skipping the record', async () => {
    const down = Object.assign(Object.create(codec) as typeof codec, {
      decode: async () => {
        throw new FeedbackloopError('schema registry unreachable', { retriable: true });
      },
    });
    const skipped: number[] = [];
    await expect(applyRecords([record(Buffer.from('x'), 0)], { codec: down, apply: () => {}, onSkipped: (_e, r) => void skipped.push(r.offset) })).rejects.toThrow('unreachable');
    expect(skipped).toEqual([]);
  });
});
