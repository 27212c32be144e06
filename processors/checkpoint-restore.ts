/**
 * Restoring a partition task from its checkpoint (checkpoint.ts): the state
 * and where the re-read of the input starts, or, when no checkpoint can be
 * used, why — then the task re-reads its input from the partition's start.
 */
import type { LogTransport } from '../adapters/transport/transport.js';
import { readCheckpoint } from './checkpoint.js';
import type { TaskContext } from './partition-tasks.js';

export interface Restored<S> {
  /** The checkpoint's state, or undefined: rebuild from the partition's start. */
  state: S | undefined;
  /** Per input topic, the offset the re-read starts at: the checkpoint's, or 0. */
  from: Record<string, number>;
  /** Why no checkpoint was used (when `state` is undefined). */
  reason?: string;
}

export interface RestoreOptions<S> {
  transport: LogTransport;
  /** The processor's checkpoint topic. */
  topic: string;
  /** The input topics the checkpoint must cover. */
  inputs: readonly string[];
  ctx: Pick<TaskContext, 'partition' | 'resumeAt' | 'heartbeat'>;
  /** The state of a checkpoint; throws when it does not fit (another format, other settings): no checkpoint is used. */
  decode: (state: Buffer) => S;
  /**
   * Use a checkpoint ahead of the committed offsets (default: refuse it). For
   * a processor that writes its checkpoint outside the offsets' transaction,
   * after its output is durable (the evaluator): its state there is the one
   * a re-read would build, and what lies between was written already.
   */
  acceptAhead?: boolean;
}

export async function restoreCheckpoint<S>(options: RestoreOptions<S>): Promise<Restored<S>> {
  const { transport, topic, inputs, ctx } = options;
  const start: Record<string, number> = Object.create(null); // keyed by topic names (`__proto__` is one Kafka allows)
  for (const input of inputs) start[input] = 0;
  const read = await readCheckpoint(transport, topic, ctx.partition, () => ctx.heartbeat());
  if (!read.checkpoint) return { state: undefined, from: start, reason: read.reason };
  const from: Record<string, number> = Object.create(null);
  for (const input of inputs) {
    const offset = Object.hasOwn(read.checkpoint.offsets, input) ? read.checkpoint.offsets[input] : undefined;
    if (!Number.isInteger(offset) || offset! < 0) return { state: undefined, from: start, reason: `checkpoint ${read.id} does not cover ${input}` };
    // Written with the offsets it covers: ahead of them only when the group's offsets were moved back by hand.
    if (offset! > ctx.resumeAt(input) && !options.acceptAhead) return { state: undefined, from: start, reason: `checkpoint ${read.id} is ahead of the committed offset of ${input} (${offset} > ${ctx.resumeAt(input)})` };
    from[input] = offset!;
  }
  try {
    return { state: options.decode(read.checkpoint.state), from };
  } catch (error) {
    return { state: undefined, from: start, reason: `checkpoint ${read.id} does not fit: ${(error as Error).message}` };
  }
}
