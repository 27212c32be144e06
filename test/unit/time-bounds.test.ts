/**
 * The plausible event times (core/join/time-bounds.ts): the messages, and
 * the replay's rule (StreamTimeCheck) on streams that must and must not be
 * refused, with exact expectations.
 */
import { describe, expect, it } from 'vitest';
import { LOOKAHEAD, StreamTimeCheck, timeProblem, wallClock, type TimeBounds } from '../../core/join/index.js';
import { mulberry32 } from '../../demo/random.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = 1_763_942_400_000; // 2025-11-24T00:00:00Z
const BOUNDS: TimeBounds = { minTimestamp: 946_684_800_000, maxFutureMs: HOUR }; // the defaults: 2000-01-01, 1h

/** The verdicts of the replay's rule on `timestamps` (one file, in line order), by index: undefined when accepted. */
function verdicts(timestamps: number[], bounds = BOUNDS): Array<string | undefined> {
  const check = new StreamTimeCheck<number>('timestamp', bounds);
  const out: Array<string | undefined> = new Array(timestamps.length);
  const take = (decided: ReturnType<typeof check.end>) => decided.forEach((v) => (out[v.item] = v.problem));
  timestamps.forEach((t, i) => take(check.push(i, t)));
  take(check.end());
  return out;
}

const refused = (timestamps: number[], bounds = BOUNDS) =>
  verdicts(timestamps, bounds).flatMap((problem, i) => (problem === undefined ? [] : [i]));

describe('timeProblem', () => {
  it('names the field, the value, the bound and the accepted range; a hint when the unit looks wrong', () => {
    const clock = wallClock(() => T0)();
    expect(timeProblem('timestamp', T0, BOUNDS, clock)).toBeUndefined();
    expect(timeProblem('timestamp', T0 + HOUR, BOUNDS, clock)).toBeUndefined();
    expect(timeProblem('timestamp', BOUNDS.minTimestamp, BOUNDS, clock)).toBeUndefined();
    expect(timeProblem('timestamp', T0 + HOUR + 1, BOUNDS, clock)).toBe(
      'timestamp 1763946000001 (2025-11-24T01:00:00.001Z) is more than joiner.max_future (1h) ahead of the wall clock, 1763942400000 (2025-11-24T00:00:00.000Z): ' +
        'the accepted range is [946684800000 (2000-01-01T00:00:00.000Z), 1763946000000 (2025-11-24T01:00:00.000Z)]',
    );
    expect(timeProblem('timestamp', T0 * 1000, BOUNDS, clock)).toBe(
      'timestamp 1763942400000000 (+057867-02-10T00:00:00.000Z) is more than joiner.max_future (1h) ahead of the wall clock, 1763942400000 (2025-11-24T00:00:00.000Z): ' +
        'the accepted range is [946684800000 (2000-01-01T00:00:00.000Z), 1763946000000 (2025-11-24T01:00:00.000Z)] (microseconds instead of milliseconds?)',
    );
    expect(timeProblem('timestamp', 2 ** 52, BOUNDS, clock)).toMatch(/^timestamp 4503599627370496 \(\+144683-05-23T16:29:30\.496Z\) is more than/);
    expect(timeProblem('timestamp', 9e15, BOUNDS, clock)).toMatch(/^timestamp 9000000000000000 \(beyond the year 275760\) is more than/);
    expect(timeProblem('timestamp', T0 / 1000, BOUNDS, clock)).toBe(
      'timestamp 1763942400 (1970-01-21T09:59:02.400Z) is before joiner.min_timestamp: ' +
        'the accepted range is [946684800000 (2000-01-01T00:00:00.000Z), 1763946000000 (2025-11-24T01:00:00.000Z)] (seconds instead of milliseconds?)',
    );
    expect(timeProblem('timestamp', 0, BOUNDS, clock)).toBe(
      'timestamp 0 (1970-01-01T00:00:00.000Z) is before joiner.min_timestamp: the accepted range is [946684800000 (2000-01-01T00:00:00.000Z), 1763946000000 (2025-11-24T01:00:00.000Z)]',
    );
  });
});

describe('the replay rule: the stream\'s own time (StreamTimeCheck)', () => {
  /** A stream that moves forward by 1 to 20 minutes an event. */
  const steady = (n: number, seed = 1) => {
    const random = mulberry32(seed);
    const out: number[] = [];
    let t = T0;
    for (let i = 0; i < n; i++) out.push((t += MINUTE + Math.floor(random() * 19 * MINUTE)));
    return out;
  };

  it('refuses one event stamped far ahead, wherever it is in the file, with the stream\'s time in the message', () => {
    const stream = steady(40);
    for (const at of [0, 1, 17, 38]) {
      for (const bad of [T0 + 365 * DAY, stream[at]! * 1000, 2 ** 52]) {
        const withBad = [...stream.slice(0, at), bad, ...stream.slice(at)];
        expect(refused(withBad), `at ${at}: ${bad}`).toEqual([at]);
      }
    }
    const withBad = [...stream.slice(0, 10), T0 + 365 * DAY, ...stream.slice(10)];
    const next = stream.slice(10, 10 + LOOKAHEAD);
    expect(verdicts(withBad)[10]).toBe(
      `timestamp 1795478400000 (2026-11-24T00:00:00.000Z) is more than joiner.max_future (1h) ahead of the stream's time, ${next[2]} (${new Date(next[2]!).toISOString()}) ` +
        `(the later of the latest timestamp accepted before it in the file, ${stream[9]}, and the median of the next 5, ${next[2]}): ` +
        `the accepted range is [946684800000 (2000-01-01T00:00:00.000Z), ${next[2]! + HOUR} (${new Date(next[2]! + HOUR).toISOString()})]`,
    );
    // In microseconds: the hint says so.
    expect(verdicts([...stream.slice(0, 10), stream[10]! * 1000, ...stream.slice(10)])[10]).toMatch(/\(microseconds instead of milliseconds\?\)$/);
  });

  it('refuses two consecutive bad stamps too (the median of the next five outvotes them)', () => {
    const stream = steady(30);
    const withBad = [...stream.slice(0, 12), stream[12]! * 1000, stream[12]! * 1000 + 5, ...stream.slice(12)];
    expect(refused(withBad)).toEqual([12, 13]);
  });

  it('never refuses a stream that moves forward: 30 days with nightly gaps, a 3-day outage and arrivals a few minutes out of order', () => {
    const random = mulberry32(30);
    const stream: number[] = [];
    for (let day = 0; day < 30; day++) {
      if (day >= 12 && day < 15) continue; // the outage
      // Events from 07:00 to 22:00: a 9-hour gap every night.
      for (let t = T0 + day * DAY + 7 * HOUR; t < T0 + day * DAY + 22 * HOUR; t += MINUTE + Math.floor(random() * 30 * MINUTE)) stream.push(t);
    }
    // Arrival order: neighbours swapped now and then (up to a few minutes out of order).
    for (let i = 1; i < stream.length; i++) if (random() < 0.2 && stream[i]! - stream[i - 1]! < 10 * MINUTE) [stream[i - 1], stream[i]] = [stream[i]!, stream[i - 1]!];
    expect(stream.length).toBeGreaterThan(1000);
    expect(refused(stream)).toEqual([]);
  });

  it('never refuses the stream for late events after it (a backfill), nor the late events themselves', () => {
    const stream = steady(20);
    const late = [T0 - 3 * DAY, T0 - 3 * DAY + MINUTE, T0 - 2 * DAY, T0 - DAY, T0 - DAY + 1, T0 - 5];
    expect(refused([...stream, ...late, ...steady(10, 2).map((t) => t + 6 * HOUR)])).toEqual([]);
  });

  it('refuses every event of a stream stamped in seconds, with the floor in the message', () => {
    const inSeconds = steady(25).map((t) => Math.floor(t / 1000));
    const all = verdicts(inSeconds);
    expect(all.every((problem, i) => problem === `timestamp ${inSeconds[i]} (${new Date(inSeconds[i]!).toISOString()}) is before joiner.min_timestamp: ` +
      "the accepted range is [946684800000 (2000-01-01T00:00:00.000Z), the stream's time + 1h] (seconds instead of milliseconds?)")).toBe(true);
  });

  it('does not let events below the floor count as the stream\'s time', () => {
    const stream = steady(12);
    // Seconds-stamped lines among the good ones: the good ones still vouch for each other.
    const mixed = stream.flatMap((t, i) => (i % 2 === 0 ? [t, Math.floor(t / 1000)] : [t]));
    expect(refused(mixed)).toEqual(mixed.flatMap((t, i) => (t < BOUNDS.minTimestamp ? [i] : [])));
  });

  it('cannot judge the last event of a file: one that nothing follows is accepted, whatever its stamp (the documented limit)', () => {
    const stream = steady(10);
    expect(refused([...stream, T0 + 365 * DAY])).toEqual([]);
    // One line before the end, the last one outvotes it.
    expect(refused([...stream, T0 + 365 * DAY, stream[9]! + MINUTE])).toEqual([10]);
  });

  it('decides each event once the next five of the stream are in (it holds six at most), and events below the floor at once', () => {
    const check = new StreamTimeCheck<number>('timestamp', BOUNDS);
    const stream = steady(8);
    expect(check.push(0, stream[0]!)).toEqual([]);
    for (let i = 1; i < LOOKAHEAD; i++) expect(check.push(i, stream[i]!)).toEqual([]);
    expect(check.push(99, 5).map((v) => v.item)).toEqual([99]);
    expect(check.push(LOOKAHEAD, stream[LOOKAHEAD]!).map((v) => v.item)).toEqual([0]);
    expect(check.push(6, stream[6]!).map((v) => v.item)).toEqual([1]);
    expect(check.end().map((v) => [v.item, v.problem])).toEqual([2, 3, 4, 5, 6].map((i) => [i, undefined]));
  });
});
