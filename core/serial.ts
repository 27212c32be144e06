/**
 * Runs async jobs one at a time, in call order: a processor's batches,
 * timer flushes and stops never interleave; the Kafka transport's offset
 * requests go one at a time. A failed job does not block the ones after it
 * (its caller gets the error).
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const job = this.tail.then(fn, fn);
    this.tail = job.catch(() => {});
    return job;
  }
}
