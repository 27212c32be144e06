/**
 * What every processor is to the pipeline that runs it: a name, the topics it
 * reads and writes, start and stop, and a promise that settles when it stops
 * (rejecting when it crashed).
 */
export interface Processor {
  readonly name: string;
  /** Topics it consumes (its consumer group's subscription). */
  readonly inputs: readonly string[];
  /** Topics it produces to. */
  readonly outputs: readonly string[];
  start(): Promise<void>;
  /** Leaves its group; what it had not committed is processed again by the next owner. */
  stop(): Promise<void>;
  /** Settles when it stops: resolves on stop(), rejects when it failed in a way a retry cannot mend. */
  readonly done: Promise<void>;
}
