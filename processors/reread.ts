/**
 * Rebuilding a task's state from its input: re-reading the labelled examples
 * below the committed offset (after its checkpoint, or from the partition's
 * start), and going on when one of them makes the state throw.
 *
 * Every record below the committed offset was either applied or
 * dead-lettered as a poison (partition-tasks.ts): the state is a pure
 * function of the examples, so a record that throws in a re-read threw when
 * it was processed too, and was skipped then. The re-read skips it again,
 * but only after starting over without it (the throw may have left the state
 * half-changed), and reports it. Without that, a restart (or a rebalance)
 * after a poison was committed past failed on it again and again, and the
 * processor stopped.
 */
import { DecodeError, ValidationError } from '../core/errors.js';
import { validateLabelledExample, type LabelledExample } from '../core/events.js';
import type { RecordLimits } from '../core/limits.js';
import type { Codec } from '../adapters/codec/codec.js';
import type { LogTransport } from '../adapters/transport/transport.js';

/** Records a rebuild skips at most before it gives up (more looks like a fault of the processor, not of records). */
export const MAX_REREAD_SKIPS = 100;

export interface RereadOptions {
  transport: LogTransport;
  topic: string;
  partition: number;
  /** The re-read starts here (a checkpoint's offset; 0: the partition's start). */
  from: number;
  /** ...and ends before this offset (the committed one). */
  until: number;
  codec: Codec<LabelledExample>;
  /** Those the live path reads with, so the rebuild skips what it refused. */
  limits?: RecordLimits;
  /** Runs between fetches: a long rebuild must not cost the member its place in the group. */
  heartbeat: () => Promise<void>;
  /** Offsets not applied: poisons found by an earlier attempt of this rebuild. */
  skip?: ReadonlySet<number>;
}

/** An example of a re-read that the state could not take: the rebuild starts over without it. */
export class RereadFailure extends Error {
  constructor(
    readonly offset: number,
    readonly failure: unknown,
  ) {
    super(`the re-read example at offset ${offset} failed: ${failure instanceof Error ? failure.message : String(failure)}`);
    this.name = 'RereadFailure';
  }
}

/**
 * Applies each labelled example of the range, in offset order. A record that
 * is not ours to read is passed over (it was dead-lettered when first read);
 * an example `apply` throws on ends the re-read with a RereadFailure; any
 * other error (a registry that is down) is thrown, so the rebuild is retried
 * rather than finished with a hole. Resolves with the records in the range.
 */
export async function rereadLabelled(options: RereadOptions, apply: (example: LabelledExample) => void): Promise<number> {
  const { transport, topic, partition, from, until, codec, limits, heartbeat, skip } = options;
  let read = 0;
  await transport.readToEnd(topic, [partition], async (records) => {
    await heartbeat().catch(() => {});
    for (const record of records) {
      if (record.offset >= until || record.offset < from) continue;
      read++;
      let example: LabelledExample;
      try {
        example = validateLabelledExample(await codec.decode(record.value), limits);
      } catch (error) {
        if (error instanceof DecodeError || error instanceof ValidationError) continue;
        throw error;
      }
      if (skip?.has(record.offset)) continue;
      try {
        apply(example);
      } catch (error) {
        throw new RereadFailure(record.offset, error);
      }
    }
  }, from > 0 ? new Map([[partition, from]]) : undefined);
  return read;
}

export interface SkippedRecord {
  offset: number;
  error: string;
}

/**
 * Runs `build` (restore, then re-read with `skip`) until it goes through,
 * each time without the records that failed before; at most MAX_REREAD_SKIPS.
 */
export async function rebuildSkipping<T>(build: (skip: ReadonlySet<number>) => Promise<T>): Promise<{ built: T; skipped: SkippedRecord[] }> {
  const skip = new Set<number>();
  const skipped: SkippedRecord[] = [];
  for (;;) {
    try {
      return { built: await build(skip), skipped };
    } catch (error) {
      if (!(error instanceof RereadFailure) || skip.size >= MAX_REREAD_SKIPS) throw error;
      skip.add(error.offset);
      skipped.push({ offset: error.offset, error: error.failure instanceof Error ? error.failure.message : String(error.failure) });
    }
  }
}
