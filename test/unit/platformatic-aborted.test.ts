import { IS_CONTROL, IS_TRANSACTIONAL, type RecordsBatch } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { dropAborted } from '../../adapters/kafka/platformatic/records.js';

function batch(firstOffset: number, count: number, producerId: number, control?: 'abort' | 'commit'): RecordsBatch {
  const key = Buffer.alloc(4);
  key.writeInt16BE(control === 'commit' ? 1 : 0, 2);
  return {
    firstOffset: BigInt(firstOffset),
    lastOffsetDelta: count - 1,
    producerId: BigInt(producerId),
    attributes: IS_TRANSACTIONAL | (control ? IS_CONTROL : 0),
    records: control ? [{ key } as never] : [],
  } as unknown as RecordsBatch;
}

describe('dropAborted (read_committed filtering of a fetch)', () => {
  it('drops every aborted transaction of one producer, not only the last, and keeps its committed ones', () => {
    // Producer 7: aborted 0-2 (marker 3), committed 4-6 (marker 7), aborted 8-10 (marker 11), committed 12-14 (marker 15).
    const batches = [batch(0, 3, 7), batch(3, 1, 7, 'abort'), batch(4, 3, 7), batch(7, 1, 7, 'commit'), batch(8, 3, 7), batch(11, 1, 7, 'abort'), batch(12, 3, 7), batch(15, 1, 7, 'commit')];
    const kept = dropAborted(batches, [{ producerId: 7n, firstOffset: 0n }, { producerId: 7n, firstOffset: 8n }]);
    expect(kept.filter((b) => !(b.attributes & IS_CONTROL)).map((b) => Number(b.firstOffset))).toEqual([4, 12]);
  });

  it('keeps other producers interleaved with an aborted transaction', () => {
    const batches = [batch(0, 2, 1), batch(2, 2, 2), batch(4, 1, 1, 'abort'), batch(5, 1, 2, 'commit')];
    const kept = dropAborted(batches, [{ producerId: 1n, firstOffset: 0n }]);
    expect(kept.filter((b) => !(b.attributes & IS_CONTROL)).map((b) => Number(b.producerId))).toEqual([2]);
  });
});
