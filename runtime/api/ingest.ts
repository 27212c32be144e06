/**
 * POST /v1/predictions and /v1/feedback behind the routes: each event
 * checked by the event contract with the config's record limits and by the
 * plausible event times against the wall clock (what the joiner would
 * dead-letter is refused at the door, 400 naming the event and field),
 * encoded as Avro through the schema registry and sent keyed by
 * prediction_id (murmur2: the partition the joiner joins it in, as
 * `feedbackloop produce` does); resolved once Kafka acknowledged them all
 * (acks=all). Concurrent requests share sends (grouped-send.ts). Kafka or the registry down or slow past
 * http.api_produce_timeout: 503 with Retry-After.
 */
import type { Config } from '../../adapters/config/index.js';
import type { Codecs } from '../../adapters/codec/codecs.js';
import { invalid, unavailable } from '../../adapters/http/api/problem.js';
import type { EventKind } from '../../adapters/http/api/services.js';
import type { LogProducer, OutgoingRecord } from '../../adapters/transport/transport.js';
import { contractField } from '../../core/contract-field.js';
import { errorMessage, isRetriable, ValidationError } from '../../core/errors.js';
import { validateFeedback, validatePrediction, type Feedback, type Prediction } from '../../core/events.js';
import { timeProblem, wallClock } from '../../core/join/index.js';
import { joinerTimeBounds, recordLimits } from '../settings.js';
import { GroupedSend } from './grouped-send.js';

const RETRY_AFTER_S = 5;

export interface IngestDeps {
  config: Config;
  codecs: Pick<Codecs, 'prediction' | 'feedback'>;
  producer: LogProducer;
  now?: () => number;
}

/** `events[3].score` in a batch, `score` for a single event. */
const fieldPath = (prefix: string, field: string) => (prefix === '' ? field : field === '' ? prefix : `${prefix}.${field}`);

class Timeout extends Error {}

export class EventIngest {
  private readonly now: () => number;

  private readonly sender: GroupedSend;

  constructor(private readonly deps: IngestDeps) {
    this.now = deps.now ?? Date.now;
    this.sender = new GroupedSend(deps.producer);
  }

  /** Validates every event (the first bad one refuses them all), then sends them; resolves with their count once acknowledged. */
  async post(kind: EventKind, events: readonly unknown[], batched: boolean): Promise<number> {
    const checked = events.map((event, i) => this.check(kind, event, batched ? `events[${i}]` : ''));
    const records: OutgoingRecord[] = [];
    const t = this.deps.config.topics;
    // Stamped with the time they were accepted, not the events' own: a backdated event's record would be past the
    // topic's time retention on arrival, deleted at the broker's next retention check (the joiner orders by the event's time).
    const accepted = this.now();
    for (const event of checked) {
      records.push({ topic: kind === 'prediction' ? t.predictions : t.feedback, key: Buffer.from(event.prediction_id, 'utf8'), value: await this.encode(kind, event), timestamp: accepted });
    }
    await this.send(records);
    return records.length;
  }

  private check(kind: EventKind, event: unknown, prefix: string): Prediction | Feedback {
    const limits = recordLimits(this.deps.config);
    const where = prefix === '' ? '' : `${prefix}: `;
    let valid: Prediction | Feedback;
    try {
      valid = kind === 'prediction' ? validatePrediction(event, limits) : validateFeedback(event, limits);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      throw invalid(fieldPath(prefix, contractField(error.message)), `${where}${error.message}`);
    }
    const problem = timeProblem('timestamp', valid.timestamp, joinerTimeBounds(this.deps.config), wallClock(this.now)());
    if (problem !== undefined) throw invalid(fieldPath(prefix, 'timestamp'), `${where}${kind}: ${problem}`);
    return valid;
  }

  private async encode(kind: EventKind, event: Prediction | Feedback): Promise<Buffer> {
    try {
      return kind === 'prediction' ? await this.deps.codecs.prediction.encode(event as Prediction) : await this.deps.codecs.feedback.encode(event as Feedback);
    } catch (error) {
      throw unavailable(`cannot encode the ${kind} (schema registry at ${this.deps.config.kafka.schema_registry_url ?? 'none'}): ${errorMessage(error)}`, RETRY_AFTER_S);
    }
  }

  private async send(records: OutgoingRecord[]): Promise<void> {
    const ms = this.deps.config.http.api_produce_timeout;
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new Timeout(`Kafka did not acknowledge within http.api_produce_timeout (${ms} ms)`);
        // Still waiting for a send: taken out, never written. Already in one: it may still be.
        abort.abort(error);
        reject(error);
      }, ms);
    });
    try {
      await Promise.race([this.sender.send(records, abort.signal), timeout]);
    } catch (error) {
      const retry = error instanceof Timeout || isRetriable(error) ? RETRY_AFTER_S : undefined;
      throw unavailable(`events not written: Kafka at ${this.deps.config.kafka.brokers.join(',')}: ${errorMessage(error)}${error instanceof Timeout ? ' (they may still be written: a retry can write them twice)' : ''}`, retry);
    } finally {
      clearTimeout(timer);
    }
  }
}
