/**
 * /readyz's processors check (runtime/health.ts): a processor retrying a
 * failed batch turns the process not ready only once it has been failing
 * for the bound, and ready again at its first batch that succeeds.
 */
import { describe, expect, it } from 'vitest';
import { ProcessorHealth } from '../../runtime/health.js';

describe('processor health', () => {
  it('is not ready once a processor has been retrying for unhealthy_after, and ready again when it recovers', () => {
    let now = 1_000;
    const health = new ProcessorHealth(60_000, () => now);
    const { retrying, recovered } = health.hooks();
    expect(health.ready()).toBe(true);
    retrying('joiner', new Error('schema registry unreachable'));
    now += 59_999;
    retrying('joiner', new Error('still unreachable')); // the first failure is the one that counts
    expect(health.ready()).toBe(true);
    now += 1;
    expect(health.ready()).toBe(false);
    expect(health.unhealthy()).toEqual([{ processor: 'joiner', since: 1_000, error: 'schema registry unreachable' }]);
    recovered('learner'); // another processor's success changes nothing
    expect(health.ready()).toBe(false);
    recovered('joiner');
    expect(health.ready()).toBe(true);
  });
});
