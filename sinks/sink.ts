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
