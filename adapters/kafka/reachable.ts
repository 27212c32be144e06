/**
 * Does anything accept a TCP connection at host:port (or at a URL's host
 * and port)? A quick probe before the Kafka clients, whose connection
 * retries take many seconds to give up on a broker that is not there.
 */
import { createConnection } from 'node:net';

export function tcpReachable(hostPort: string, timeoutMs = 3000): Promise<boolean> {
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
export async function unreachableBrokers(brokers: readonly string[], timeoutMs = 3000): Promise<string[]> {
  const up = await Promise.all(brokers.map((b) => tcpReachable(b, timeoutMs)));
  return brokers.filter((_, i) => !up[i]);
}

/** What `check` and `status` say when no broker accepts a connection: the addresses and what to do. */
export function kafkaUnreachableText(brokers: readonly string[]): string {
  return `Kafka at ${brokers.join(',')} unreachable: is it running? check kafka.brokers (FEEDBACKLOOP_KAFKA_BROKERS)`;
}
