/**
 * The API's group commit (runtime/api/grouped-send.ts) on a producer double
 * (our LogProducer interface) whose sends the test acknowledges by hand.
 */
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { LogProducer, OutgoingRecord } from '../../adapters/transport/transport.js';
import { GroupedSend } from '../../runtime/api/grouped-send.js';

/** A producer that records each send and settles it when told. */
function handProducer() {
  const sends: Array<{ keys: string[]; settle: (error?: Error) => void }> = [];
  const producer: LogProducer = {
    send: (records) => new Promise<void>((resolve, reject) => sends.push({ keys: records.map((r) => r.key!.toString()), settle: (error) => (error ? reject(error) : resolve()) })),
    close: async () => {},
  };
  return { producer, sends };
}

const records = (...keys: string[]): OutgoingRecord[] => keys.map((k) => ({ topic: 't', key: Buffer.from(k), value: null }));

describe('GroupedSend', () => {
  it('sends at once when idle; what comes meanwhile goes together in the next send, in arrival order; each request settles with its send', async () => {
    const { producer, sends } = handProducer();
    const grouped = new GroupedSend(producer);
    const done: string[] = [];
    const a = grouped.send(records('a1', 'a2')).then(() => done.push('a'));
    const b = grouped.send(records('b1')).then(() => done.push('b'));
    const c = grouped.send(records('c1', 'c2')).then(() => done.push('c'));
    expect(sends.map((s) => s.keys)).toEqual([['a1', 'a2']]);
    expect(grouped.pending()).toBe(3);
    sends[0]!.settle();
    await a;
    await tick();
    expect(done).toEqual(['a']);
    expect(sends.map((s) => s.keys)).toEqual([['a1', 'a2'], ['b1', 'c1', 'c2']]);
    expect(grouped.pending()).toBe(0);
    sends[1]!.settle();
    await Promise.all([b, c]);
    expect(done).toEqual(['a', 'b', 'c']);
  });

  it('fails every request of a failed send, and goes on with the next ones', async () => {
    const { producer, sends } = handProducer();
    const grouped = new GroupedSend(producer);
    const first = grouped.send(records('a'));
    const second = grouped.send(records('b'));
    const third = grouped.send(records('c'));
    sends[0]!.settle();
    await first;
    await tick();
    sends[1]!.settle(new Error('broker down'));
    await expect(second).rejects.toThrow('broker down');
    await expect(third).rejects.toThrow('broker down');
    const fourth = grouped.send(records('d'));
    await tick();
    expect(sends.map((s) => s.keys)).toEqual([['a'], ['b', 'c'], ['d']]);
    sends[2]!.settle();
    await fourth;
  });

  it('puts at most maxRecords in one send (a larger request alone), and refuses beyond maxQueued waiting', async () => {
    const { producer, sends } = handProducer();
    const grouped = new GroupedSend(producer, 3, 5);
    void grouped.send(records('a'));
    const waiting = [grouped.send(records('b1', 'b2')), grouped.send(records('c1', 'c2')), grouped.send(records('d'))];
    await expect(grouped.send(records('e1', 'e2'))).rejects.toThrow('5 events already wait for Kafka (at most 5): it is slower than the requests');
    sends[0]!.settle();
    await tick();
    await tick();
    expect(sends.map((s) => s.keys)).toEqual([['a'], ['b1', 'b2']]);
    sends[1]!.settle();
    await tick();
    await tick();
    expect(sends.map((s) => s.keys)).toEqual([['a'], ['b1', 'b2'], ['c1', 'c2', 'd']]);
    sends[2]!.settle();
    await Promise.all(waiting);
  });

  it('takes out a request given up on while it waits: never sent', async () => {
    const { producer, sends } = handProducer();
    const grouped = new GroupedSend(producer);
    void grouped.send(records('a'));
    const abort = new AbortController();
    const given = grouped.send(records('b'), abort.signal);
    const kept = grouped.send(records('c'));
    abort.abort(new Error('timed out'));
    await expect(given).rejects.toThrow('timed out');
    expect(grouped.pending()).toBe(1);
    sends[0]!.settle();
    await tick();
    await tick();
    expect(sends.map((s) => s.keys)).toEqual([['a'], ['c']]);
    sends[1]!.settle();
    await kept;
  });
});
