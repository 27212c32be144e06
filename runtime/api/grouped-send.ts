/**
 * Group commit for the API's writes: what requests send while a send is in
 * flight waits, and goes in the next one, together (one producer.send, so one
 * acknowledgement for all of them; the idempotent producer has one request
 * in flight per broker, so separate sends would queue behind each other
 * anyway). Each request's promise settles with the send that carried its
 * records. Bounded: at most `maxRecords` per send, `maxQueued` records
 * waiting (beyond: refused at once); a request given up on (its signal
 * aborted) while still waiting is taken out, so it is never written.
 */
import { FeedbackloopError } from '../../core/errors.js';
import type { LogProducer, OutgoingRecord } from '../../adapters/transport/transport.js';

interface Waiting {
  records: OutgoingRecord[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class GroupedSend {
  private readonly waiting: Waiting[] = [];
  private queued = 0;
  private inFlight = false;

  constructor(
    private readonly producer: LogProducer,
    private readonly maxRecords = 10_000,
    private readonly maxQueued = 100_000,
  ) {}

  /** Resolves once the send carrying `records` was acknowledged. */
  send(records: OutgoingRecord[], signal?: AbortSignal): Promise<void> {
    if (this.queued + records.length > this.maxQueued) {
      return Promise.reject(new FeedbackloopError(`${this.queued} events already wait for Kafka (at most ${this.maxQueued}): it is slower than the requests`, { retriable: true }));
    }
    return new Promise<void>((resolve, reject) => {
      const entry: Waiting = { records, resolve, reject };
      this.waiting.push(entry);
      this.queued += records.length;
      signal?.addEventListener('abort', () => this.withdraw(entry, signal.reason), { once: true });
      this.next();
    });
  }

  /** Events waiting for a send now (for tests). */
  pending(): number {
    return this.queued;
  }

  private withdraw(entry: Waiting, reason: unknown): void {
    const at = this.waiting.indexOf(entry);
    if (at < 0) return;
    this.waiting.splice(at, 1);
    this.queued -= entry.records.length;
    entry.reject(reason);
  }

  private next(): void {
    if (this.inFlight || this.waiting.length === 0) return;
    const group: Waiting[] = [];
    let count = 0;
    while (this.waiting.length > 0 && (group.length === 0 || count + this.waiting[0]!.records.length <= this.maxRecords)) {
      const entry = this.waiting.shift()!;
      group.push(entry);
      count += entry.records.length;
    }
    this.queued -= count;
    this.inFlight = true;
    this.producer
      .send(group.flatMap((g) => g.records))
      .then(
        () => group.forEach((g) => g.resolve()),
        (error: unknown) => group.forEach((g) => g.reject(error)),
      )
      .finally(() => {
        this.inFlight = false;
        this.next();
      });
  }
}
