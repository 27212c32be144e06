/**
 * How long `run` may take to stop (run.stop_timeout). A graceful stop
 * commits what is pending, and each step of it waits on a server: a
 * ClickHouse that is down holds the evaluator's last write, a broker that
 * does not answer holds a commit or a group leave, and a client library can
 * leave a timer or socket open after it closed. Any of these kept `run` alive
 * after SIGTERM (once seen, after a 60 s broker outage on kafka.client:
 * platformatic, not reproduced since). An orchestrator would SIGKILL it
 * without a word; this deadline says first what the stop was waiting on,
 * then exits with code 1. Exiting there is safe: what was not committed is
 * processed again at the next start with the same results (exactly-once
 * rests on transactions and versioned rows, not on a clean stop).
 *
 * A second SIGINT or SIGTERM while stopping exits at once, the same way.
 */
import type { Logger } from '../adapters/logging/index.js';

export const EXIT_STOP_TIMEOUT = 1;

export interface StopDeadlineOptions {
  /** 0: no deadline. */
  timeoutMs: number;
  logger: Pick<Logger, 'error' | 'warn'>;
  /** process.exit in `run` (no code: the exit code the process has); a double in tests. */
  exit: (code?: number) => void;
  /** What keeps the process alive (process.getActiveResourcesInfo in `run`). */
  resources?: () => string[];
}

export class StopDeadline {
  private step = 'not started';
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private since = 0;

  constructor(private readonly options: StopDeadlineOptions) {}

  /** The stop began: from now on it has timeoutMs. The timer does not keep the process alive. */
  arm(): void {
    if (this.timer || this.options.timeoutMs <= 0) return;
    this.since = Date.now();
    this.timer = setTimeout(() => this.expire('run.stop_timeout passed'), this.options.timeoutMs);
    this.timer.unref();
  }

  /** The step the stop is in now (a processor's name, "the producer"...), for the message. */
  at(step: string): void {
    this.step = step;
  }

  /** Every step returned: what still runs past the deadline keeps the process alive on its own. */
  finished(): void {
    this.stopped = true;
    this.step = 'exiting (every step returned)';
  }

  /** A second signal while stopping: exit now. */
  force(signal: string): void {
    this.expire(`a second ${signal}`);
  }

  private expire(why: string): void {
    const fields = {
      waiting_for: this.step,
      elapsed_ms: this.since > 0 ? Date.now() - this.since : 0,
      open_resources: summarize(this.options.resources?.() ?? []),
    };
    if (this.stopped) {
      this.options.logger.warn(fields, `stopped, but something kept the process alive: exiting (${why})`);
      this.options.exit();
      return;
    }
    this.options.logger.error(fields, `the stop did not finish: exiting (${why}); what was not committed is processed again at the next start, with the same results`);
    this.options.exit(EXIT_STOP_TIMEOUT);
  }
}

/** Resource kinds with their counts ({ TCPWRAP: 3, Timeout: 2 }), bounded by the kinds node has. */
function summarize(resources: string[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const kind of resources) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return Object.fromEntries(counts);
}
