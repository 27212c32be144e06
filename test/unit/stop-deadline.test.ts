/**
 * run.stop_timeout (runtime/stop-deadline.ts): a stop that hangs is ended
 * with code 1 and a line naming the step it waited on; a stop that finished
 * but left the process alive exits with the process's own code; no deadline
 * passes before the timeout, and 0 sets none.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Pipeline } from '../../runtime/pipeline.js';
import { EXIT_STOP_TIMEOUT, StopDeadline } from '../../runtime/stop-deadline.js';

interface Line {
  level: 'error' | 'warn';
  fields: Record<string, unknown>;
  message: string;
}

function deadline(timeoutMs: number) {
  const lines: Line[] = [];
  const exits: Array<number | undefined> = [];
  const logger = {
    error: (fields: Record<string, unknown>, message: string) => lines.push({ level: 'error', fields, message }),
    warn: (fields: Record<string, unknown>, message: string) => lines.push({ level: 'warn', fields, message }),
  };
  const d = new StopDeadline({
    timeoutMs,
    logger: logger as never,
    exit: (code) => exits.push(code),
    resources: () => ['TCPWRAP', 'Timeout', 'TCPWRAP'],
  });
  return { d, lines, exits };
}

describe('the stop deadline of run', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('ends a stop that hangs in a processor, naming it, with code 1, and not before the timeout', async () => {
    const { d, lines, exits } = deadline(25_000);
    // A pipeline whose second processor never stops (a commit waiting on a broker that does not answer).
    const stops: string[] = [];
    const processor = (name: string, stop: () => Promise<void>) => ({ name, stop, start: async () => {}, done: new Promise<void>(() => {}) });
    const pipeline = Object.create(Pipeline.prototype) as Pipeline;
    Object.assign(pipeline, {
      processors: [
        processor('joiner', async () => void stops.push('joiner')),
        processor('evaluator', () => new Promise<void>(() => {})),
        processor('archive', async () => void stops.push('archive')),
      ],
    });
    d.arm();
    void pipeline.stop(undefined, (step) => d.at(step));
    await vi.advanceTimersByTimeAsync(24_999);
    expect(exits).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(exits).toEqual([EXIT_STOP_TIMEOUT]);
    expect(stops).toEqual(['joiner']);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe('error');
    expect(lines[0]!.message).toMatch(/the stop did not finish: exiting \(run\.stop_timeout passed\)/);
    expect(lines[0]!.fields).toEqual({ waiting_for: 'the evaluator', elapsed_ms: 25_000, open_resources: { TCPWRAP: 2, Timeout: 1 } });
  });

  it('exits with the process\'s own code when the stop finished but something kept the process alive', async () => {
    const { d, lines, exits } = deadline(1_000);
    d.arm();
    d.at('the producer');
    d.finished();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(exits).toEqual([undefined]);
    expect(lines.map((l) => [l.level, l.fields.waiting_for])).toEqual([['warn', 'exiting (every step returned)']]);
  });

  it('exits at once on a second signal', () => {
    const { d, lines, exits } = deadline(25_000);
    d.arm();
    d.at('the learner');
    d.force('SIGTERM');
    expect(exits).toEqual([EXIT_STOP_TIMEOUT]);
    expect(lines[0]!.message).toMatch(/a second SIGTERM/);
    expect(lines[0]!.fields.waiting_for).toBe('the learner');
  });

  it('sets no deadline with stop_timeout 0, and arms once', async () => {
    const never = deadline(0);
    never.d.arm();
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(never.exits).toEqual([]);
    const once = deadline(1_000);
    once.d.arm();
    await vi.advanceTimersByTimeAsync(600);
    once.d.arm();
    await vi.advanceTimersByTimeAsync(400);
    expect(once.exits).toEqual([EXIT_STOP_TIMEOUT]);
    expect(once.lines[0]!.fields.elapsed_ms).toBe(1_000);
  });
});
