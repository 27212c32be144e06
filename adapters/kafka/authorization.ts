/**
 * Kafka refusing a request for want of an ACL, turned into an error that
 * names the resource and the ACL to grant, and that ends `run` (systemic,
 * never retried) instead of looping.
 *
 * kafkajs 2.2.4 loses some refusals on the way: a FindCoordinator refused
 * (TRANSACTIONAL_ID_ or GROUP_AUTHORIZATION_FAILED) comes out as "Failed to
 * find group coordinator" (KafkaJSGroupCoordinatorNotFound, no cause), which
 * is also what a broker restart looks like (adapters/kafka/errors.ts retries
 * it for as long as it lasts). The refusal is only in kafkajs's log line of
 * the response. So `AuthorizationLog` watches those lines, and a coordinator
 * not found right after one is taken for the refusal it was.
 */
import type { logCreator, LogEntry } from 'kafkajs';
import { FeedbackloopError } from '../../core/errors.js';

/** kafkajs's messages of the refusals (protocol/error.js), by protocol error type. */
const REFUSALS: Record<string, string> = {
  TOPIC_AUTHORIZATION_FAILED: 'Not authorized to access topics: [Topic authorization failed]',
  GROUP_AUTHORIZATION_FAILED: 'Not authorized to access group: Group authorization failed',
  CLUSTER_AUTHORIZATION_FAILED: 'Cluster authorization failed',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 'Transactional Id authorization failed',
};
const TYPE_OF_MESSAGE = new Map(Object.entries(REFUSALS).map(([type, message]) => [message, type]));

/** How long after a refusal in the log a coordinator not found is taken for it. */
const RECENT_MS = 10_000;

/** Kafka refused: names what, on which resource, and the remedy (the ACL that allows it). Ends the processor; never retried. */
export class KafkaAuthorizationError extends FeedbackloopError {
  constructor(
    readonly refusal: string,
    what: string,
    remedy: string,
    cause: unknown,
  ) {
    super(`Kafka refused ${what} (${refusal}): ${remedy} (\`feedbackloop acls\` lists every ACL run needs)`, { systemic: true, cause });
  }
}

/** The remedy of a missing ACL. */
export function grant(acl: string): string {
  return `grant this user ${acl}`;
}

interface ErrorLike {
  name?: unknown;
  type?: unknown;
  cause?: unknown;
  /** kafkajs's KafkaJSAggregateError (e.g. "Topic creation errors", one per topic). */
  errors?: unknown;
}

/** The error, its causes and the errors it aggregates (bounded: a chain could loop). */
function chain(error: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  const visit = (e: unknown) => {
    if (typeof e !== 'object' || e === null || out.length >= 20 || out.includes(e as ErrorLike)) return;
    out.push(e as ErrorLike);
    visit((e as ErrorLike).cause);
    if (Array.isArray((e as ErrorLike).errors)) for (const inner of (e as { errors: unknown[] }).errors) visit(inner);
  };
  visit(error);
  return out;
}

/** The refusal in `error`'s chain: a protocol type `*_AUTHORIZATION_FAILED`, or a KafkaAuthorizationError's. */
export function refusalOf(error: unknown): string | undefined {
  for (const e of chain(error)) {
    if (e instanceof KafkaAuthorizationError) return e.refusal;
    if (typeof e.type === 'string' && e.type.endsWith('_AUTHORIZATION_FAILED')) return e.type;
  }
  return undefined;
}

/** The refusals kafkajs logged (the responses it got), to explain the errors it reports without them. */
export class AuthorizationLog {
  private readonly seen: Array<{ type: string; at: number }> = [];

  /** `base` with every refusal noted on the way (kafkajs logs each refused response at error level). */
  wrap(base: logCreator): logCreator {
    return (level) => {
      const log = base(level);
      return (entry: LogEntry) => {
        const type = TYPE_OF_MESSAGE.get(String((entry.log as { error?: unknown }).error));
        if (type) this.note(type);
        log(entry);
      };
    };
  }

  note(type: string, at = Date.now()): void {
    this.seen.push({ type, at });
    if (this.seen.length > 100) this.seen.shift();
  }

  /** The refusal of `types` logged in the last 10 s, if any. */
  recent(types: readonly string[], now = Date.now()): string | undefined {
    for (let i = this.seen.length - 1; i >= 0; i--) {
      const s = this.seen[i]!;
      if (types.includes(s.type) && now - s.at <= RECENT_MS) return s.type;
    }
    return undefined;
  }

  /**
   * The refusal behind `error`: its own (a protocol type in its chain), or
   * one of `types` just logged when kafkajs reports it as a coordinator it
   * could not find.
   */
  explain(error: unknown, types: readonly string[]): string | undefined {
    const own = refusalOf(error);
    if (own) return own;
    return chain(error).some((e) => e.name === 'KafkaJSGroupCoordinatorNotFound') ? this.recent(types) : undefined;
  }
}

/**
 * A transaction's AddPartitionsToTxn refused for some of its partitions: the
 * broker answers TOPIC_AUTHORIZATION_FAILED (or UNKNOWN_TOPIC_OR_PARTITION)
 * for those and OPERATION_NOT_ATTEMPTED for the others, and kafkajs reports
 * whichever partition it decodes first, without its topic.
 */
export function partitionsNotAttempted(error: unknown): boolean {
  return chain(error).some((e) => e.type === 'OPERATION_NOT_ATTEMPTED');
}
