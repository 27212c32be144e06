/**
 * A sink takes batches of items somewhere durable. writeBatch resolves only
 * once the batch is durable, so a processor commits its input offsets after
 * it and never loses what it acknowledged.
 */
export interface Sink<T> {
  connect(): Promise<void>;
  writeBatch(items: T[]): Promise<void>;
  close(): Promise<void>;
}

/** Writes every batch to each of several sinks (e.g. the topic and ClickHouse). */
export class FanOutSink<T> implements Sink<T> {
  constructor(private readonly sinks: Sink<T>[]) {}

  async connect(): Promise<void> {
    for (const sink of this.sinks) await sink.connect();
  }

  async writeBatch(items: T[]): Promise<void> {
    for (const sink of this.sinks) await sink.writeBatch(items);
  }

  async close(): Promise<void> {
    for (const sink of this.sinks) await sink.close();
  }
}
