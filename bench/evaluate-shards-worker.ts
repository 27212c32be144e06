/**
 * A worker thread of bench:evaluate-shards: makes the bench's stream, keeps
 * its own shard (by prediction id), says `ready`; on `go` runs the evaluator
 * core over the shard (a drain every `drainEvery` examples, the changed
 * windows' partials taken before each) and posts the last partial of each
 * window back, with its own wall and CPU time.
 */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { EvaluatorOptions } from '../core/evaluate/index.js';
import { labelledStream } from './labelled.js';
import { runEvaluator, shardOf } from './shards.js';

export interface ShardJob {
  labels: number;
  seed: number;
  model: string;
  shard: number;
  shards: number;
  drainEvery: number;
  options: Partial<EvaluatorOptions>;
}

const job = workerData as ShardJob;
const port = parentPort!;
const examples = labelledStream(job.labels, job.seed, undefined, 7, [job.model]).filter((e) => shardOf(e, job.shards) === job.shard);
port.postMessage({ ready: true, examples: examples.length });
/** This thread's CPU seconds (user + system) so far, from /proc (Linux; 10 ms ticks): V8's GC helper threads are not in it. */
function threadCpuSeconds(): number {
  const stat = readFileSync('/proc/thread-self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

port.once('message', () => {
  const started = performance.now();
  const cpu = threadCpuSeconds();
  const run = runEvaluator(examples, job.options, job.drainEvery, false);
  const seconds = (performance.now() - started) / 1000;
  port.postMessage({ rows: [...run.rows.values()], seconds, cpuSeconds: threadCpuSeconds() - cpu, pointsWritten: run.pointsWritten });
});
