import { describe, expect, it } from 'vitest';
import { chunkRecords, MAX_SEND_BYTES, MAX_SEND_RECORDS } from '../../adapters/kafka/transport.js';

describe('Kafka sends are split', () => {
  it('by record count and by bytes, keeping order', () => {
    const small = Array.from({ length: 2500 }, (_, i) => ({ topic: 't', key: null, value: Buffer.from(String(i)) }));
    const chunks = chunkRecords(small);
    expect(chunks.map((c) => c.length)).toEqual([MAX_SEND_RECORDS, MAX_SEND_RECORDS, 500]);
    expect(chunks.flat()).toEqual(small);
    const big = Array.from({ length: 5 }, () => ({ topic: 't', key: null, value: Buffer.alloc(200 * 1024) }));
    expect(chunkRecords(big).map((c) => c.length)).toEqual([2, 2, 1]);
    // A single record larger than the cap still goes alone (the broker decides).
    expect(chunkRecords([{ topic: 't', key: null, value: Buffer.alloc(MAX_SEND_BYTES * 2) }])).toHaveLength(1);
    expect(chunkRecords([])).toEqual([]);
  });
});
