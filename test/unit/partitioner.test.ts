import { describe, expect, it } from 'vitest';
import { Partitioners } from 'kafkajs';
import { murmur2, partitionForKey } from '../../adapters/transport/partitioner.js';

describe('murmur2 partitioner', () => {
  it('matches known Kafka murmur2 values', () => {
    // Values from Kafka's own UtilsTest (Java) for these strings.
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(murmur2(Buffer.from('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(Buffer.from('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
    expect(murmur2(Buffer.from([97, 98, 99]))).toBe(479470107);
  });

  it('places keys where kafkajs DefaultPartitioner does, for 1 to 12 partitions', () => {
    const kafkajs = Partitioners.DefaultPartitioner();
    for (let partitions = 1; partitions <= 12; partitions++) {
      const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
      for (let i = 0; i < 500; i++) {
        const key = Buffer.from(`prediction-${i}-${'x'.repeat(i % 7)}`);
        const expected = kafkajs({ topic: 't', partitionMetadata, message: { key, value: null } });
        expect(partitionForKey(key, partitions)).toBe(expected);
      }
    }
  });
});
