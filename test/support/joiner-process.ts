/**
 * A `feedbackloop run --only joiner` (or other processors) child process for the integration
 * tests: the built CLI (dist/cli/main.js; `npm run build` first), configured
 * only through FEEDBACKLOOP_* variables, its stdout and stderr (pino JSON
 * lines) written to a file under .cache/test-logs/ for diagnosis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { wallClock } from '../../core/join/index.js';
import type { JoinerTopics } from '../../processors/joiner.js';
import { stackEnvironment } from './stack.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');
export const LOG_DIR = join(ROOT, '.cache', 'test-logs');
/** Parent of the joiner children's on-disk state (joiner.state_dir), one folder per test. */
export const STATE_DIR = join(ROOT, '.cache', 'test-state');

export const DAY = 86_400_000;
/** The joiner's settings in the integration tests, for the child (environment) and for the pure core computing the expected output. */
export const JOINER_OPTIONS = {
  joinWindowMs: 7 * DAY,
  earlyFeedbackTtlMs: DAY,
  emitUnlabelled: true,
  emitArrivals: true,
  // joiner.min_timestamp's default (2000-01-01) and joiner.max_future (1h) against the wall clock, as in `run`.
  timeBounds: { minTimestamp: 946_684_800_000, maxFutureMs: 3_600_000 },
  eventClock: wallClock(() => Date.now()),
};
export const JOINER_ENV = {
  FEEDBACKLOOP_JOINER_JOIN_WINDOW: '7d',
  FEEDBACKLOOP_JOINER_EARLY_FEEDBACK_TTL: '1d',
  FEEDBACKLOOP_JOINER_EMIT_UNLABELLED: 'true',
  FEEDBACKLOOP_JOINER_EMIT_ARRIVALS: 'true',
  FEEDBACKLOOP_JOINER_MAX_FUTURE: '1h',
};

/** Every topic `feedbackloop run` creates, named for one test so that nothing is shared. */
export interface PipelineTopics extends JoinerTopics {
  snapshots: string;
  promotions: string;
  /** The promoter's checkpoints. */
  checkpoints: string;
  evaluatorCheckpoints: string;
}

export function pipelineTopics(prefix: string): PipelineTopics {
  return {
    predictions: `${prefix}-predictions`,
    feedback: `${prefix}-feedback`,
    labelled: `${prefix}-labelled-examples`,
    unmatched: `${prefix}-unmatched-feedback`,
    deadLetters: `${prefix}-dead-letters`,
    changelog: `${prefix}-joiner-changelog`,
    snapshots: `${prefix}-model-snapshots`,
    promotions: `${prefix}-model-promotions`,
    checkpoints: `${prefix}-promoter-checkpoints`,
    evaluatorCheckpoints: `${prefix}-evaluator-checkpoints`,
  };
}

/**
 * The environment of a joiner child: the stack's servers, these topics and
 * client id (so its consumer group `<clientId>-joiner` and transactional ids
 * `<clientId>-joiner-<p>` are the test's own), its own state folder
 * (`stateDir`, default STATE_DIR/<clientId>), no ClickHouse (the joiner does
 * not use it), a free HTTP port, plus `extra` (e.g. joiner settings).
 */
export function joinerEnvironment(options: { clientId: string; topics: PipelineTopics; partitions: number; stateDir?: string; extra?: Record<string, string> }): Record<string, string> {
  const { topics } = options;
  return stackEnvironment({
    FEEDBACKLOOP_JOINER_STATE_DIR: options.stateDir ?? join(STATE_DIR, options.clientId),
    FEEDBACKLOOP_CLICKHOUSE_URL: '',
    FEEDBACKLOOP_KAFKA_CLIENT_ID: options.clientId,
    FEEDBACKLOOP_TOPICS_PREDICTIONS: topics.predictions,
    FEEDBACKLOOP_TOPICS_FEEDBACK: topics.feedback,
    FEEDBACKLOOP_TOPICS_LABELLED_EXAMPLES: topics.labelled,
    FEEDBACKLOOP_TOPICS_UNMATCHED_FEEDBACK: topics.unmatched,
    FEEDBACKLOOP_TOPICS_DEAD_LETTERS: topics.deadLetters,
    FEEDBACKLOOP_TOPICS_JOINER_CHANGELOG: topics.changelog,
    FEEDBACKLOOP_TOPICS_MODEL_SNAPSHOTS: topics.snapshots,
    FEEDBACKLOOP_TOPICS_MODEL_PROMOTIONS: topics.promotions,
    FEEDBACKLOOP_TOPICS_PROMOTER_CHECKPOINTS: topics.checkpoints,
    FEEDBACKLOOP_TOPICS_EVALUATOR_CHECKPOINTS: topics.evaluatorCheckpoints,
    FEEDBACKLOOP_TOPICS_PARTITIONS: String(options.partitions),
    FEEDBACKLOOP_HTTP_PORT: '0',
    FEEDBACKLOOP_HTTP_HOST: '127.0.0.1',
    FEEDBACKLOOP_LOG_LEVEL: 'info',
    ...options.extra,
  });
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class JoinerProcess {
  /** Port of its /metrics endpoint (from its "feedbackloop running" line). */
  port = 0;
  readonly exited: Promise<Exit>;
  /** Set once the process exited. */
  exit: Exit | undefined;
  /** Signals this side sent (an exit after one of them is expected). */
  readonly signalsSent: NodeJS.Signals[] = [];
  private readonly lines: string[] = [];
  private readonly problemCounts: Record<string, number> = {};
  private readonly errorLines: string[] = [];
  private partial = '';
  private readonly log: WriteStream;

  private constructor(
    readonly name: string,
    readonly logFile: string,
    private readonly child: ChildProcess,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
    const onData = (chunk: Buffer) => {
      this.log.write(chunk);
      const text = this.partial + chunk.toString('utf8');
      const parts = text.split('\n');
      this.partial = parts.pop() ?? '';
      for (const line of parts) {
        if (/"level":(40|50|60)/.test(line)) this.countProblem(line);
        if (/"level":(50|60)/.test(line) && this.errorLines.length < 20) this.errorLines.push(line);
        this.lines.push(line);
        if (this.lines.length > 400) this.lines.shift();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    this.exited = new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        this.log.end();
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /**
   * Starts the child and waits for its "feedbackloop running" line (its consumer is then running; the group join follows).
   * `config`: a YAML config file (`--config`), for what the environment cannot set (e.g. `models.<name>.*`).
   */
  static async start(options: { name: string; env: Record<string, string>; readyTimeoutMs?: number; processors?: string[]; config?: string }): Promise<JoinerProcess> {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (the integration tests run the built CLI)`);
    mkdirSync(LOG_DIR, { recursive: true });
    const logFile = join(LOG_DIR, `${options.name}.log`);
    const args = [CLI, 'run', ...(options.config ? ['--config', options.config] : []), '--only', ...(options.processors ?? ['joiner'])];
    const child = spawn(process.execPath, args, { cwd: ROOT, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const proc = new JoinerProcess(options.name, logFile, child);
    const timeoutMs = options.readyTimeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    while (proc.port === 0) {
      for (const line of proc.lines) {
        if (!line.includes('"feedbackloop running"')) continue;
        proc.port = (JSON.parse(line) as { port: number }).port;
      }
      if (proc.port !== 0) break;
      if (proc.exit) throw new Error(`${options.name} exited (${JSON.stringify(proc.exit)}) before it was running; log ${logFile}:\n${proc.tail()}`);
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`${options.name} was not running after ${timeoutMs} ms; log ${logFile}:\n${proc.tail()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return proc;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.exit) return;
    this.signalsSent.push(signal);
    this.child.kill(signal);
  }

  /** Sends `signal` and waits for the exit; SIGKILL after `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<Exit> {
    this.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      this.exited,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    if (exit) return exit;
    this.kill('SIGKILL');
    return this.exited;
  }

  /** True if the process ended without having been sent a signal (it crashed or gave up). */
  diedOnItsOwn(): boolean {
    return this.exit !== undefined && this.signalsSent.length === 0;
  }

  /** The last `count` lines it wrote. */
  tail(count = 40): string {
    return [...this.lines, this.partial].filter(Boolean).slice(-count).join('\n');
  }

  /** Lines it wrote at level warn (40) or above, among its last 400. */
  problems(): string[] {
    return this.lines.filter((line) => /"level":(40|50|60)/.test(line));
  }

  /** Its first 20 lines at level error (50) or fatal (60), kafkajs's included. */
  errors(): string[] {
    return [...this.errorLines];
  }

  /** Its warn/error lines counted by message (kafkajs's included), for the test's figures. */
  problemSummary(): Record<string, number> {
    return { ...this.problemCounts };
  }

  private countProblem(line: string): void {
    let message = line;
    try {
      const parsed = JSON.parse(line) as { msg?: string; error?: string };
      message = parsed.error ? `${parsed.msg}: ${parsed.error}` : (parsed.msg ?? line);
    } catch {
      // not JSON: count the raw line
    }
    this.problemCounts[message] = (this.problemCounts[message] ?? 0) + 1;
  }

  /** feedbackloop_join_events_total by event, from its /metrics. */
  async joinEvents(): Promise<Record<string, number>> {
    const response = await fetch(`http://127.0.0.1:${this.port}/metrics`);
    const text = await response.text();
    const out: Record<string, number> = {};
    for (const match of text.matchAll(/^feedbackloop_join_events_total\{event="([^"]+)"\} (\S+)$/gm)) out[match[1]!] = Number(match[2]);
    return out;
  }
}

/** Throws (with the end of its log) if one of `processes` exited without having been sent a signal. */
export function failIfDied(processes: Iterable<JoinerProcess>): void {
  for (const p of processes) if (p.diedOnItsOwn()) throw new Error(`${p.name} exited on its own (${JSON.stringify(p.exit)}); log ${p.logFile}:\n${p.tail()}`);
}

/** What is left in a state folder (stores a process did not close: it was killed), and removes it. */
export function removeStateDir(dir: string): { folders: number; bytes: number } {
  if (!existsSync(dir)) return { folders: 0, bytes: 0 };
  let bytes = 0;
  const folders = readdirSync(dir);
  for (const folder of folders) {
    for (const file of readdirSync(join(dir, folder))) bytes += statSync(join(dir, folder, file)).blocks * 512;
  }
  rmSync(dir, { recursive: true, force: true });
  return { folders: folders.length, bytes };
}
