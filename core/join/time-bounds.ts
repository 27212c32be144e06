/**
 * The plausible event times (README, "The joiner": plausible event time).
 * Time in the join moves with the largest timestamp seen, so one event
 * stamped far ahead (clock skew, microseconds instead of milliseconds, a
 * sentinel date) would expire every pending prediction at once, and one
 * stamped in seconds instead of milliseconds lands in 1970. Both are
 * refused, with the field, the value and the accepted range:
 *
 * - the floor: a timestamp before `minTimestamp` (joiner.min_timestamp);
 * - the ceiling: a timestamp more than `maxFutureMs` (joiner.max_future)
 *   ahead of the clock it is measured against. In `run` that is the wall
 *   clock, read by the joiner for each event (Joiner, `eventClock`). A replay
 *   has no wall clock of its own: its input files are checked against the
 *   stream's own time before they go in (StreamTimeCheck below), since a
 *   line stamped far ahead would also upset the merge of the two files by
 *   event time.
 */

import { formatDuration } from '../duration.js';
import { sortSmall } from '../sorted-keys.js';

/** The accepted range of event times, around a clock. */
export interface TimeBounds {
  /** Earliest accepted timestamp, epoch ms (joiner.min_timestamp). */
  minTimestamp: number;
  /** How far an event may be stamped ahead of the clock, ms (joiner.max_future). */
  maxFutureMs: number;
}

/** No bounds at all (the join core's default). */
export const UNBOUNDED: TimeBounds = { minTimestamp: Number.NEGATIVE_INFINITY, maxFutureMs: Number.POSITIVE_INFINITY };

/** The clock an event's time is measured against: what it is, and its reading (null: not read here, no ceiling). */
export interface ClockReading {
  what: string;
  at: number | null;
  /** How the reading was made, shown after it. */
  how?: string;
}

/** No clock: only the floor is checked (the join core's default; replay checks the ceiling on its input). */
export const NO_CLOCK = (): ClockReading => ({ what: 'the clock', at: null });

/** The wall clock as the joiner reads it in `run`. */
export function wallClock(now: () => number): () => ClockReading {
  return () => ({ what: 'the wall clock', at: now() });
}

/** Events the replay's stream clock looks ahead at (StreamTimeCheck). */
export const LOOKAHEAD = 5;

const MAX_DATE_MS = 8.64e15;

/** "1763942400000 (2025-11-24T00:00:00.000Z)"; Date cannot show beyond ±8.64e15 ms. */
export function showTime(ms: number): string {
  return Math.abs(ms) <= MAX_DATE_MS ? `${ms} (${new Date(ms).toISOString()})` : `${ms} (beyond the year 275760)`;
}

function range(bounds: TimeBounds, clock: ClockReading): string {
  const lower = Number.isFinite(bounds.minTimestamp) ? showTime(bounds.minTimestamp) : 'no lower bound';
  const upper = !Number.isFinite(bounds.maxFutureMs)
    ? 'no upper bound'
    : clock.at === null
      ? `${clock.what} + ${formatDuration(bounds.maxFutureMs)}`
      : showTime(clock.at + bounds.maxFutureMs);
  return `the accepted range is [${lower}, ${upper}]`;
}

/**
 * Why `timestamp` (the event's field `field`) is not a plausible event
 * time, or undefined. The message names the field, the value, the bound it
 * broke and the accepted range.
 */
export function timeProblem(field: string, timestamp: number, bounds: TimeBounds, clock: ClockReading): string | undefined {
  if (timestamp < bounds.minTimestamp) {
    const seconds = timestamp * 1000 >= bounds.minTimestamp ? ' (seconds instead of milliseconds?)' : '';
    return `${field} ${showTime(timestamp)} is before joiner.min_timestamp: ${range(bounds, clock)}${seconds}`;
  }
  if (clock.at !== null && timestamp > clock.at + bounds.maxFutureMs) {
    const limit = clock.at + bounds.maxFutureMs;
    const micro = timestamp / 1000 >= bounds.minTimestamp && timestamp / 1000 <= limit ? ' (microseconds instead of milliseconds?)' : '';
    const how = clock.how ? ` (${clock.how})` : '';
    return `${field} ${showTime(timestamp)} is more than joiner.max_future (${formatDuration(bounds.maxFutureMs)}) ahead of ${clock.what}, ${showTime(clock.at)}${how}: ${range(bounds, clock)}${micro}`;
  }
  return undefined;
}

/** An item of a stream and its verdict: `problem` set when it is refused. */
export interface Checked<T> {
  item: T;
  timestamp: number;
  problem: string | undefined;
}

/** The lower median: of an even count, the smaller middle value. */
function lowerMedian(values: number[]): number {
  const sorted = sortSmall([...values]);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** What the replay measures against: the stream's own time (StreamTimeCheck). */
export const STREAM_TIME = "the stream's time";

/**
 * The replay's check of one input file, in line order (the order its events
 * arrived in), against the stream's own time:
 *
 * - floor: a timestamp before minTimestamp is refused (and is not part of
 *   the stream's time);
 * - ceiling: the stream's time at an event is the later of (a) the largest
 *   timestamp accepted before it in the file and (b) the median (the lower
 *   one of an even count) of the timestamps of the next LOOKAHEAD events of
 *   the file (fewer near the end; those below the floor not counted). An
 *   event stamped more than maxFutureMs after that is refused: it is ahead
 *   both of what came before it and of most of what came next, so the
 *   stream came back from it. A stream that moves forward, with gaps of
 *   any length, is never refused, as the events after a jump confirm it; an
 *   event that no other follows (the last of its file) is never refused for
 *   being ahead, as nothing tells a stream that moved on from one bad stamp.
 *
 * Streaming: `push` the events in order; each call returns the verdicts it
 * decided: an event below the floor at once, any other once LOOKAHEAD
 * events of the stream follow it (in order among themselves); `end` returns
 * the rest. Holds LOOKAHEAD + 1 events at most.
 */
export class StreamTimeCheck<T> {
  /** Events of the stream not decided yet, in order. */
  private readonly queue: Array<{ item: T; timestamp: number }> = [];
  /** Largest timestamp accepted so far. */
  private latest = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly field: string,
    private readonly bounds: TimeBounds,
    private readonly lookahead = LOOKAHEAD,
  ) {}

  push(item: T, timestamp: number): Array<Checked<T>> {
    if (timestamp < this.bounds.minTimestamp) {
      return [{ item, timestamp, problem: timeProblem(this.field, timestamp, this.bounds, { what: STREAM_TIME, at: null }) }];
    }
    this.queue.push({ item, timestamp });
    const out: Array<Checked<T>> = [];
    while (this.queue.length > this.lookahead) out.push(this.decideHead());
    return out;
  }

  end(): Array<Checked<T>> {
    const out: Array<Checked<T>> = [];
    while (this.queue.length > 0) out.push(this.decideHead());
    return out;
  }

  private decideHead(): Checked<T> {
    const head = this.queue.shift()!;
    const next = this.queue.slice(0, this.lookahead).map((e) => e.timestamp);
    let problem: string | undefined;
    if (next.length > 0) {
      const median = lowerMedian(next);
      const at = Math.max(this.latest, median);
      // The clock's `how` only goes into a refusal's message: spelled out only for one.
      if (timeProblem(this.field, head.timestamp, this.bounds, { what: STREAM_TIME, at }) !== undefined) {
        const before = Number.isFinite(this.latest) ? String(this.latest) : 'none';
        const how = `the later of the latest timestamp accepted before it in the file, ${before}, and the median of the next ${next.length}, ${median}`;
        problem = timeProblem(this.field, head.timestamp, this.bounds, { what: STREAM_TIME, at, how });
      }
    }
    if (problem === undefined && head.timestamp > this.latest) this.latest = head.timestamp;
    return { item: head.item, timestamp: head.timestamp, problem };
  }
}
