/**
 * Does anything accept a TCP connection at host:port (or at a URL's host
 * and port)? A quick probe before the Kafka clients, whose connection
 * retries take many seconds to give up on a broker that is not there.
 */
import { createConnection } from 'node:net';
import { FeedbackloopError } from '../../core/errors.js';

/** How long a broker's TCP port has to accept a connection before it is called unreachable. */
export const BROKER_PROBE_MS = 3000;

export function tcpReachable(hostPort: string, timeoutMs = BROKER_PROBE_MS): Promise<boolean> {
  const url = hostPort.includes('://') ? new URL(hostPort) : new URL(`tcp://${hostPort}`);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return new Promise((resolve) => {
    const socket = createConnection({ host: url.hostname.replace(/^\[|\]$/g, ''), port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/** The brokers that accept no TCP connection within `timeoutMs`, probed at once, in the order given. */
export async function unreachableBrokers(brokers: readonly string[], timeoutMs = BROKER_PROBE_MS): Promise<string[]> {
  const up = await Promise.all(brokers.map((b) => tcpReachable(b, timeoutMs)));
  return brokers.filter((_, i) => !up[i]);
}

/** What `check`, `status`, `run` and the manual decisions say when no broker accepts a connection: the addresses and what to do. */
export function kafkaUnreachableText(brokers: readonly string[]): string {
  return `Kafka at ${brokers.join(',')} unreachable: is it running? check kafka.brokers (FEEDBACKLOOP_KAFKA_BROKERS)`;
}

/**
 * Fails fast when none of `brokers` accepts a TCP connection (probed at
 * once, `timeoutMs` each), before a Kafka client would spend 5-10 s in
 * connection retries: `run` and the manual decisions at start. Retriable
 * (the broker may come up); one broker answering is enough to go on.
 */
export async function requireReachableBrokers(brokers: readonly string[], timeoutMs = BROKER_PROBE_MS): Promise<void> {
  const unreachable = await unreachableBrokers(brokers, timeoutMs);
  if (brokers.length > 0 && unreachable.length === brokers.length) throw new FeedbackloopError(kafkaUnreachableText(brokers), { retriable: true });
}
