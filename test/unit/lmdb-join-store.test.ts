/**
 * The LMDB join store against the heap store: the same seeded streams give
 * the same outputs, counters and sizes; takeExpired orders by (at, id) as
 * JS compares strings; size() stays exact; a failed transaction rolls back.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LmdbJoinStore } from '../../adapters/state/lmdb-join-store.js';
import { MemoryTransport } from '../../adapters/transport/memory.js';
import { buildConfig } from '../../adapters/config/index.js';
import { makeCodecs } from '../../adapters/codec/codecs.js';
import { joinerTopics } from '../../runtime/settings.js';
import { ManualClock } from '../../core/clock.js';
import { noFeedbackClasses, noPredictionClasses, type Prediction } from '../../core/events.js';
import { Joiner, MemoryJoinStore, type JoinEntry, type JoinerOptions, type JoinOutput, type JoinStore } from '../../core/join/index.js';
import { JoinerProcessor } from '../../processors/joiner.js';
import { joinStream, kindOf, type StreamEvent, type StreamOptions } from '../../bench/stream.js';
import { mulberry32 } from '../../demo/random.js';

const HOUR = 3_600_000;
const T0 = 1_763_942_400_000;
const DIR = mkdtempSync(join(tmpdir(), 'lmdb-join-store-test-'));
const opened: LmdbJoinStore[] = [];

function lmdb(): LmdbJoinStore {
  const store = new LmdbJoinStore({ dir: DIR, mapSize: 64 * 2 ** 20 });
  opened.push(store);
  return store;
}

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

const JOINER: Partial<JoinerOptions> = { joinWindowMs: HOUR, earlyFeedbackTtlMs: 10 * 60_000, kindOf };

function stream(seed: number, predictions: number, granularityMs = 1000): StreamEvent[] {
  const options: StreamOptions = { predictions, seed, meanGapMs: 2000, joinWindowMs: HOUR, earlyFeedbackTtlMs: 10 * 60_000, granularityMs, startMs: T0 };
  return [...joinStream(options)];
}

function run(joiner: Joiner, events: StreamEvent[], batch?: (fn: () => void) => void, batchSize = 1): JoinOutput[] {
  const out: JoinOutput[] = [];
  for (let i = 0; i < events.length; i += batchSize) {
    const step = () => {
      for (const e of events.slice(i, i + batchSize)) out.push(...(e.kind === 'prediction' ? joiner.onPrediction(e.event) : joiner.onFeedback(e.event)));
    };
    if (batch) batch(step);
    else step();
  }
  return out;
}

function kinds(outputs: JoinOutput[]): Record<string, number> {
  const count: Record<string, number> = {};
  for (const o of outputs) {
    const k = o.kind === 'example' ? (o.example.label === null ? 'unlabelled' : o.example.correction_of ? 'correction' : 'labelled') : `${o.kind}`;
    count[k] = (count[k] ?? 0) + 1;
  }
  return count;
}

function entry(id: string, expiresAt: number, overrides: Partial<JoinEntry> = {}): JoinEntry {
  const prediction: Prediction = {
    prediction_id: id, model: 'fraud', model_version: 'v1', timestamp: expiresAt - HOUR,
    features: { amount: 1.5 }, categorical: {}, segments: { region: 'eu' }, score: 0.7, threshold: 0.5, shadow_scores: {},
    ...noPredictionClasses(),
  };
  return { prediction, shadow_scores: {}, early: [], resolved: null, seq: 0, seen: [], expires_at: expiresAt, ...overrides };
}

describe('LmdbJoinStore: the join gives what it gives on the heap store', () => {
  for (const [seed, batchSize] of [[1, 1], [2, 37], [3, 500]] as const) {
    it(`seed ${seed}, ${batchSize} event(s) per transaction: same outputs, counters, watermark and sizes`, () => {
      const events = stream(seed, 1500);
      const memory = new MemoryJoinStore();
      const store = lmdb();
      const a = new Joiner(memory, JOINER);
      const b = new Joiner(store, JOINER);
      // Stop halfway to compare the state with entries pending.
      const half = Math.floor(events.length / 2);
      const outA = run(a, events.slice(0, half));
      const outB = run(b, events.slice(0, half), (fn) => store.transaction(fn), batchSize);
      expect(outB).toEqual(outA);
      expect(store.size()).toBe(memory.size());
      expect(store.size()).toBeGreaterThan(100);
      expect(store.stats().entries).toBe(store.size());
      for (const [id, e] of memory.all()) expect(store.get(id)).toEqual(e);

      outA.push(...run(a, events.slice(half)));
      outB.push(...run(b, events.slice(half), (fn) => store.transaction(fn), batchSize));
      expect(outB).toEqual(outA);
      expect(b.counters).toEqual(a.counters);
      expect(b.watermark).toBe(a.watermark);
      expect(store.size()).toBe(memory.size());

      // Drain: everything expires in the same order.
      const endA = a.advance(a.watermark + 30 * 24 * HOUR);
      const endB = store.transaction(() => b.advance(b.watermark + 30 * 24 * HOUR));
      expect(endB).toEqual(endA);
      expect(store.size()).toBe(0);
      expect(memory.size()).toBe(0);
      expect(store.stats()).toMatchObject({ entries: 0, expiryItems: 0 });

      // The stream exercised every case.
      const seen = kinds([...outA, ...endA]);
      expect(Object.keys(seen).sort()).toEqual(['arrival', 'correction', 'labelled', 'rejected', 'unlabelled', 'unmatched']);
      expect(a.counters.duplicates).toBeGreaterThan(0);
      expect(a.counters.confirmations).toBeGreaterThan(0);
      expect(a.counters.superseded).toBeGreaterThan(0);
      expect(a.counters.uncertain).toBeGreaterThan(0);
    });
  }

  it('without transactions (a commit per write) too', () => {
    const events = stream(4, 400, 1);
    const memory = new MemoryJoinStore();
    const store = lmdb();
    const outA = run(new Joiner(memory, JOINER), events);
    const outB = run(new Joiner(store, JOINER), events);
    expect(outB).toEqual(outA);
    expect(store.size()).toBe(memory.size());
  });
});

describe('LmdbJoinStore: the expiry index', () => {
  it('takeExpired returns items with at <= watermark, ordered by at then id as JS compares strings, and removes them', () => {
    const store = lmdb();
    const items: Array<[number, string]> = [
      [200, 'b'], [100, 'z'], [100, 'a'], [100, 'a-2'], [100, 'A'], [300, 'x'], [100, '\u{1F600}'], [100, '\uFFFF'], [100, 'é'],
      [-5, 'neg'], [0, 'zero'], [-0, 'negzero'], [100.5, 'frac'], [Number.MAX_SAFE_INTEGER, 'max'], [-Number.MAX_SAFE_INTEGER, 'min'],
    ];
    for (const [at, id] of items) store.addExpiry(at, id);
    expect(store.takeExpired(-Number.MAX_SAFE_INTEGER - 1)).toEqual([]);
    const taken = store.takeExpired(200);
    const expected = items
      .filter(([at]) => at <= 200)
      .map(([at, id]) => ({ at: at === 0 ? 0 : at, id }))
      .sort((x, y) => x.at - y.at || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
    expect(taken).toEqual(expected);
    // '\u{1F600}' is a surrogate pair (0xD83D...): JS puts it before '\uFFFF', unlike UTF-8 byte order.
    expect(taken.filter((t) => t.at === 100).map((t) => t.id)).toEqual(['A', 'a', 'a-2', 'z', 'é', '\u{1F600}', '\uFFFF']);
    expect(store.takeExpired(200)).toEqual([]);
    expect(store.takeExpired(Number.MAX_SAFE_INTEGER)).toEqual([{ at: 300, id: 'x' }, { at: Number.MAX_SAFE_INTEGER, id: 'max' }]);
    expect(store.stats().expiryItems).toBe(0);
  });

  it('keeps stale items (an entry whose expiry moved) for the taker to skip; the Joiner skips them', () => {
    const store = lmdb();
    store.set('p', entry('p', 1000));
    store.addExpiry(1000, 'p');
    store.set('p', entry('p', 5000));
    store.addExpiry(5000, 'p');
    expect(store.takeExpired(1000)).toEqual([{ at: 1000, id: 'p' }]);
    expect(store.get('p')?.expires_at).toBe(5000); // the taker sees the item is stale
    expect(store.takeExpired(5000)).toEqual([{ at: 5000, id: 'p' }]);

    // Through the Joiner: feedback first (expiry at its TTL), then the prediction (expiry at the window).
    const joined = lmdb();
    const memory = new MemoryJoinStore();
    const events: StreamEvent[] = [
      { kind: 'feedback', event: { prediction_id: 'q', timestamp: T0, feedback_type: 'EXPERT_REVIEW', label: 1, uncertain: false, source: 'a', notes: null, ...noFeedbackClasses() } },
      { kind: 'prediction', event: entry('q', T0 + HOUR).prediction! },
      { kind: 'prediction', event: { ...entry('r', T0 + HOUR).prediction!, timestamp: T0 + 11 * 60_000 } }, // past q's TTL: the stale item
      { kind: 'prediction', event: { ...entry('s', T0 + HOUR).prediction!, timestamp: T0 + 2 * HOUR } }, // past q's window
    ];
    const outA = run(new Joiner(memory, JOINER), events);
    const outB = run(new Joiner(joined, JOINER), events);
    expect(outB).toEqual(outA);
    // q's feedback item (T0 + 10 min) is stale once q's prediction arrived: q expires at its window, labelled.
    expect(outB.map((o) => (o.kind === 'example' ? [o.example.example_id, o.example.label] : o.kind))).toEqual([
      'arrival', // q
      ['q#1', 1],
      'arrival', // r
      ['r#1', null],
      'arrival', // s
    ]);
    expect(joined.size()).toBe(memory.size());
  });

  it('matches the heap store on random additions and takes, with ties, late items and more items than its read-ahead', () => {
    const rng = mulberry32(99);
    const store = lmdb();
    const memory = new MemoryJoinStore();
    const added = new Set<string>();
    let watermark = 0;
    store.transaction(() => {
      for (let round = 0; round < 400; round++) {
        const adds = Math.floor(rng() * 30);
        for (let k = 0; k < adds; k++) {
          // Mostly ahead of the watermark, some at or behind it (taken at the next call), many ties.
          const at = watermark + Math.floor((rng() - 0.1) * 200);
          const id = `id-${Math.floor(rng() * 5000)}`;
          if (added.has(`${at}|${id}`)) continue; // the heap store keeps duplicates of one (at, id); LMDB keeps one
          added.add(`${at}|${id}`);
          store.addExpiry(at, id);
          memory.addExpiry(at, id);
        }
        watermark += Math.floor(rng() * 12);
        expect(store.takeExpired(watermark)).toEqual(memory.takeExpired(watermark));
      }
    });
    // A burst of 3000 items below the read-ahead's bound (it trims and re-reads).
    for (let k = 0; k < 3000; k++) {
      const at = watermark + 1 + (k % 7);
      store.addExpiry(at, `burst-${k}`);
      memory.addExpiry(at, `burst-${k}`);
    }
    expect(store.takeExpired(watermark + 1_000_000)).toEqual(memory.takeExpired(watermark + 1_000_000));
    expect(store.stats().expiryItems).toBe(0);
  });
});

describe('LmdbJoinStore: size and transactions', () => {
  it('counts entries exactly across new sets, overwrites, deletes of missing keys, with and without a get before', () => {
    const store = lmdb();
    expect(store.size()).toBe(0);
    store.set('a', entry('a', 1));
    store.set('a', entry('a', 2)); // overwrite, no get before
    expect(store.size()).toBe(1);
    expect(store.get('b')).toBeUndefined();
    store.set('b', entry('b', 1)); // set after a get that missed
    expect(store.get('b')).toBeDefined();
    store.set('b', entry('b', 3)); // set after a get that hit
    expect(store.size()).toBe(2);
    store.delete('missing');
    expect(store.get('missing')).toBeUndefined();
    store.delete('missing'); // after a get that missed
    expect(store.size()).toBe(2);
    store.delete('a');
    store.delete('a');
    expect(store.size()).toBe(1);
    expect(store.get('b')?.expires_at).toBe(3);
    store.transaction(() => {
      for (let i = 0; i < 100; i++) store.set(`t${i % 60}`, entry(`t${i}`, i));
      for (let i = 0; i < 10; i++) store.delete(`t${i}`);
      expect(store.get('t39')?.expires_at).toBe(99); // reads see the transaction's writes
    });
    expect(store.size()).toBe(51);
    expect(store.stats().entries).toBe(51);
    store.clear();
    expect(store.size()).toBe(0);
    expect(store.stats()).toMatchObject({ entries: 0, expiryItems: 0 });
    store.set('after-clear', entry('after-clear', 1));
    expect(store.get('after-clear')?.expires_at).toBe(1);
    expect(store.size()).toBe(1);
  });

  it('rolls back entries, index and size when the transaction throws', () => {
    const store = lmdb();
    store.set('keep', entry('keep', 10));
    store.addExpiry(10, 'keep');
    expect(() =>
      store.transaction(() => {
        store.set('gone', entry('gone', 5));
        store.addExpiry(5, 'gone');
        store.delete('keep');
        store.takeExpired(1); // nothing due, but the read-ahead is used inside the transaction
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(store.size()).toBe(1);
    expect(store.get('gone')).toBeUndefined();
    expect(store.get('keep')?.expires_at).toBe(10);
    expect(store.takeExpired(100)).toEqual([{ at: 10, id: 'keep' }]);
    // The rolled-back item is not returned, even when the rollback happened after the read-ahead saw it.
    store.transaction(() => {
      store.addExpiry(20, 'x');
      expect(store.takeExpired(15)).toEqual([]);
    });
    expect(() =>
      store.transaction(() => {
        store.addExpiry(30, 'y');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(store.takeExpired(100)).toEqual([{ at: 20, id: 'x' }]);
    // An async function would leave the transaction open across awaits: refused, and rolled back.
    expect(() =>
      store.transaction(() => {
        store.set('async', entry('async', 1));
        return Promise.resolve();
      }),
    ).toThrow('synchronous');
    expect(store.get('async')).toBeUndefined();
    expect(store.size()).toBe(1);
  });

  it('stores ids longer than an LMDB key (hashed keys, the full id kept)', () => {
    const store = lmdb();
    const long = 'x'.repeat(5000);
    const longer = `${long}y`;
    const wide = 'é'.repeat(1000); // 2000 UTF-8 bytes, 1000 UTF-16 units
    for (const id of [long, longer, wide]) {
      expect(store.get(id)).toBeUndefined();
      store.set(id, entry(id, 7));
      store.addExpiry(7, id);
    }
    expect(store.size()).toBe(3);
    expect(store.get(longer)?.prediction?.prediction_id).toBe(longer);
    expect(store.get(wide)?.prediction?.prediction_id).toBe(wide);
    store.delete(long);
    expect(store.get(long)).toBeUndefined();
    expect(store.size()).toBe(2);
    expect(store.takeExpired(7).map((t) => t.id).sort()).toEqual([long, longer, wide].sort());
  });

  it('gives each store its own directory and removes it on close', async () => {
    const a = new LmdbJoinStore({ dir: DIR, partition: 3 });
    const b = new LmdbJoinStore({ dir: DIR, partition: 3 });
    expect(a.path).not.toBe(b.path);
    expect(a.path).toMatch(/joiner-p3-/);
    a.set('k', entry('k', 1));
    expect(b.get('k')).toBeUndefined();
    await a.close();
    await a.close();
    await b.close();
    expect(existsSync(a.path)).toBe(false);
  });
});

describe('LmdbJoinStore in the JoinerProcessor (restored from the changelog at assignment)', () => {
  it('writes the same labelled examples, unmatched feedback and changelog as the heap store', async () => {
    const events = stream(5, 300);
    const results: Array<{ labelled: string[]; unmatched: string[]; changelog: string[]; pending: number }> = [];
    for (const kind of ['memory', 'lmdb'] as const) {
      const config = buildConfig({ topics: { partitions: 2 } });
      const t = config.topics;
      const clock = new ManualClock(T0);
      const transport = new MemoryTransport(() => clock.now());
      await transport.ensureTopics([
        { name: t.predictions, partitions: 2 }, { name: t.feedback, partitions: 2 }, { name: t.labelled_examples, partitions: 2 },
        { name: t.unmatched_feedback, partitions: 2 }, { name: t.dead_letters, partitions: 2 }, { name: t.joiner_changelog, partitions: 2, compacted: true },
      ]);
      const codecs = makeCodecs(config.topics, undefined);
      const producer = await transport.producer();
      const send = async (part: StreamEvent[]) => {
        const records = [];
        for (const e of part) {
          records.push(
            e.kind === 'prediction'
              ? { topic: t.predictions, key: Buffer.from(e.event.prediction_id), value: await codecs.prediction.encode(e.event), timestamp: e.event.timestamp }
              : { topic: t.feedback, key: Buffer.from(e.event.prediction_id), value: await codecs.feedback.encode(e.event), timestamp: e.event.timestamp },
          );
        }
        await producer.send(records);
      };
      const stores: JoinStore[] = [];
      const deps = {
        transport,
        topics: joinerTopics(config),
        groupId: 'g', transactionalIdPrefix: 'tx', codecs, joiner: JOINER, clock,
        createStore: () => {
          const store = kind === 'memory' ? new MemoryJoinStore() : lmdb();
          stores.push(store);
          return store;
        },
      };
      // Half the input, stop; the rest, and a second processor restores from the changelog and finishes.
      const half = Math.floor(events.length / 2);
      await send(events.slice(0, half));
      const first = new JoinerProcessor(deps);
      await first.start();
      await transport.whenIdle();
      await first.stop();
      await send(events.slice(half));
      const second = new JoinerProcessor(deps);
      await second.start();
      await transport.whenIdle();
      const pending = [...second.pending().values()].reduce((s, n) => s + n, 0);
      await second.stop();
      const text = (records: Array<{ value: Buffer | null; key: Buffer | null }>) => records.map((r) => `${r.key?.toString('hex')}=${r.value?.toString('hex')}`);
      results.push({
        labelled: text(transport.records(t.labelled_examples)),
        unmatched: text(transport.records(t.unmatched_feedback)),
        changelog: text(transport.records(t.joiner_changelog)),
        pending,
      });
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[0]!.labelled.length).toBeGreaterThan(100);
    expect(results[0]!.pending).toBeGreaterThan(0);
  });
});
