/**
 * Readiness of a running pipeline's processors: a processor whose batches
 * fail in a way a retry can mend (a server down or busy) keeps retrying; once
 * it has been failing for `unhealthyAfterMs` without a batch succeeding, the
 * process reports itself not ready (/readyz 503), so a supervisor or an
 * operator hears of it, while it goes on trying.
 */
import { errorMessage } from '../core/errors.js';
import type { PipelineObserver } from '../core/observer.js';

export class ProcessorHealth {
  /** Since when each processor has been retrying (keyed by our processor names, a fixed set). */
  private readonly failing = new Map<string, { since: number; error: string }>();

  constructor(
    private readonly unhealthyAfterMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The observer hooks that feed it. */
  hooks(): Required<Pick<PipelineObserver, 'retrying' | 'recovered'>> {
    return {
      retrying: (processor, error) => {
        if (!this.failing.has(processor)) this.failing.set(processor, { since: this.now(), error: errorMessage(error) });
      },
      recovered: (processor) => void this.failing.delete(processor),
    };
  }

  /** The processors retrying for longer than the bound, with since when and their first error. */
  unhealthy(): Array<{ processor: string; since: number; error: string }> {
    const out: Array<{ processor: string; since: number; error: string }> = [];
    for (const [processor, f] of this.failing) if (this.now() - f.since >= this.unhealthyAfterMs) out.push({ processor, ...f });
    return out;
  }

  /** The /readyz check: no processor retrying past the bound. */
  ready(): boolean {
    return this.unhealthy().length === 0;
  }
}
