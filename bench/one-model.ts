/**
 * One hot model's sequential stages, side by side (issue 13, scale-out):
 * examples/s of the learner core (ChallengerTrainer, the default challenger
 * `logreg`, snapshots every learner.snapshot_every as the processor makes
 * them), the promoter core (PromotionPolicy.observe, the default policy) and
 * the evaluator core (Evaluator, default options, a drain every 5,000 as the
 * processor's flushes) on the same stream of one model.
 *
 *   npm run bench:one-model [-- --examples N --reps R --json PATH]
 *
 * Why: with evaluator.shard_by prediction the evaluator's work spreads over
 * instances, but an online learner and the sequential promotion test need
 * one ordered stream per model (docs/scale-out.md, points 4 and 5). So one
 * model's ceiling is the slowest of: the learner's rate, the promoter's
 * rate, and N times the evaluator's. This bench gives the three rates in one
 * run (the medians of R reps, in turn, so load hits them alike).
 *
 * Stream: bench/labelled.ts with one model (`fraud`), 7 days, a shadow score,
 * 2 segment attributes, every ninth label corrected; the examples are made
 * before any clock starts. Core only: no Avro, no Kafka, no ClickHouse.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { buildConfig } from '../adapters/config/index.js';
import { Evaluator } from '../core/evaluate/index.js';
import type { LabelledExample } from '../core/events.js';
import { ChallengerTrainer } from '../core/learn/index.js';
import { PromotionPolicy } from '../core/promote/index.js';
import { learnerSettings, policyOptions } from '../runtime/settings.js';
import { labelledStream } from './labelled.js';
import { numberOption } from './options.js';

const EXAMPLES = numberOption('examples', 200_000);
const REPS = numberOption('reps', 3);
const JSON_PATH = ((i) => (i >= 0 ? process.argv[i + 1]! : undefined))(process.argv.indexOf('--json')) ?? 'out/bench/one-model.json';
const MODEL = 'fraud';

const config = buildConfig({});

/** Examples/s of one pass of `apply` over the stream. */
function rate(examples: LabelledExample[], apply: (e: LabelledExample, i: number) => void): number {
  const started = performance.now();
  for (let i = 0; i < examples.length; i++) apply(examples[i]!, i);
  return examples.length / ((performance.now() - started) / 1000);
}

const STAGES: Record<string, (examples: LabelledExample[]) => number> = {
  learner: (examples) => {
    const trainer = new ChallengerTrainer(learnerSettings(config).learner);
    const every = config.learner.snapshot_every;
    const r = rate(examples, (e, i) => {
      trainer.learn(e);
      if ((i + 1) % every === 0) trainer.snapshot(e.feedback_timestamp ?? e.timestamp);
    });
    const { learned, corrections_learned } = trainer.counters;
    if (learned + corrections_learned !== examples.length) throw new Error(`the learner learned ${learned} + ${corrections_learned} corrections of ${examples.length}`);
    return r;
  },
  promoter: (examples) => {
    const policy = new PromotionPolicy(MODEL, policyOptions(config, MODEL));
    const r = rate(examples, (e) => void policy.observe(e));
    // Every example carries a challenger's shadow score: each one is a paired observation.
    if (policy.state().challengers.length === 0) throw new Error('the promoter compared nothing');
    return r;
  },
  evaluator: (examples) => {
    const evaluator = new Evaluator({});
    return rate(examples, (e, i) => {
      evaluator.onExample(e);
      if ((i + 1) % 5_000 === 0) evaluator.drain();
    });
  },
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function main(): void {
  const examples = labelledStream(EXAMPLES, 13, undefined, 7, [MODEL]);
  const runs = new Map<string, number[]>(Object.keys(STAGES).map((s) => [s, []]));
  for (let rep = 0; rep < REPS; rep++) {
    for (const [name, stage] of Object.entries(STAGES)) runs.get(name)!.push(stage(examples));
  }
  const rates = Object.fromEntries([...runs].map(([name, xs]) => [name, median(xs)]));
  const sequential = Math.min(rates.learner!, rates.promoter!);
  const result = {
    examples: examples.length,
    reps: REPS,
    load_average: loadavg().map((x) => Math.round(x * 100) / 100),
    examples_per_s: rates,
    runs: Object.fromEntries(runs),
    // The rate one model can take with N evaluator instances, if nothing else (decode, Kafka) limits it first.
    ceiling: { n1: Math.min(sequential, rates.evaluator!), n2: Math.min(sequential, 2 * rates.evaluator!), sequential_stage: rates.learner! < rates.promoter! ? 'learner' : 'promoter' },
  };
  for (const [name, xs] of runs) console.log(`${name.padEnd(10)} ${fmt(rates[name]!).padStart(9)} examples/s  (reps: ${xs.map(fmt).join(', ')})`);
  console.log(`one model's ceiling (core only): N=1 ${fmt(result.ceiling.n1)}, N=2 ${fmt(result.ceiling.n2)} examples/s; sequential stage: ${result.ceiling.sequential_stage}`);
  mkdirSync(dirname(JSON_PATH), { recursive: true });
  writeFileSync(JSON_PATH, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${JSON_PATH}`);
}

main();
