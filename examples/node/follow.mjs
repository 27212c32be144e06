#!/usr/bin/env node
/**
 * Follow a model's promotions from Node with feedbackloop's scorer library.
 *
 * A ChampionScorer reads model-snapshots and model-promotions and keeps the
 * current champion in memory; each time it swaps, this prints the champion
 * and the score it gives the `--features` (one JSON line each), so the app
 * scores with whatever was promoted last, without a restart. When the
 * champion is a version upstream serves itself (not one of feedbackloop's
 * snapshots), it says so: the app then scores with its own model.
 *
 *   node follow.mjs --brokers localhost:9092 --registry http://localhost:8081 \
 *       --model fraud-detector --features '{"amount": 129.5, "account_age_days": 30}'
 *
 * `--follow logreg` serves that challenger's newest snapshot until a first
 * promotion; `--until <version>` exits 0 once that version is served (1 after
 * `--timeout` seconds, default 60); without it, it runs until Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { ChampionScorer, OwnModelError } from 'feedbackloop/scorer';

const { values: args } = parseArgs({
  options: {
    brokers: { type: 'string' },
    registry: { type: 'string' },
    model: { type: 'string' },
    features: { type: 'string', default: '{}' },
    categorical: { type: 'string', default: '{}' },
    follow: { type: 'string' },
    until: { type: 'string' },
    timeout: { type: 'string', default: '60' },
    'snapshots-topic': { type: 'string', default: 'model-snapshots' },
    'promotions-topic': { type: 'string', default: 'model-promotions' },
  },
});
for (const name of ['brokers', 'registry', 'model']) {
  if (!args[name]) {
    console.error(`--${name} is required\nusage: node follow.mjs --brokers host:port[,...] --registry URL --model NAME [--features JSON] [--follow CHALLENGER] [--until VERSION]`);
    process.exit(2);
  }
}
const input = { features: JSON.parse(args.features), categorical: JSON.parse(args.categorical) };

let scorer;
let finished = false;
const finish = async (code) => {
  if (finished) return;
  finished = true;
  await scorer?.close();
  process.exit(code);
};

/** What the app would do with a request now: score with the champion, or with its own model when upstream's version is champion. */
function report(reason) {
  try {
    const { score, version } = scorer.score(input);
    console.log(JSON.stringify({ champion: version, reason, score }));
  } catch (error) {
    if (!(error instanceof OwnModelError)) throw error;
    console.log(JSON.stringify({ champion: error.version, reason, own_model: true }));
  }
  if (args.until !== undefined && scorer.version() === args.until) void finish(0);
}

scorer = await ChampionScorer.connect({
  brokers: args.brokers.split(','),
  schemaRegistryUrl: args.registry,
  clientId: 'feedbackloop-example-follow',
  model: args.model,
  ...(args.follow ? { follow: args.follow } : {}),
  topics: { snapshots: args['snapshots-topic'], promotions: args['promotions-topic'] },
  // Called after the swap: the new champion serves from here on.
  onSwap: (_version, reason) => setImmediate(() => report(reason)),
  onError: (error) => console.error(`scorer: ${error.message}`),
});
console.error(`following ${args.model}: champion ${scorer.version() ?? 'none yet'}`);
if (scorer.version() !== undefined) report('at start');

process.on('SIGINT', () => void finish(0));
process.on('SIGTERM', () => void finish(0));
if (args.until !== undefined) {
  setTimeout(() => {
    console.error(`${args.until} not served within ${args.timeout} s (champion: ${scorer.version() ?? 'none'})`);
    void finish(1);
  }, Number(args.timeout) * 1000).unref();
}
