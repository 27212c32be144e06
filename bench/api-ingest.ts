/**
 * POST /v1/predictions against `feedbackloop run --only joiner` on the real
 * stack (scripts/stack/start.sh; `npm run build` first): requests per second
 * and events per second, batched (1,000 events per request, one client and
 * four) and single events (8 and 64 clients). Each request is answered once
 * Kafka acknowledged its events (acks=all); concurrent requests share sends
 * (runtime/api/grouped-send.ts). Fresh topics per run.
 *
 *   npm run build && npm run bench:api-ingest
 */
import { JoinerProcess, joinerEnvironment, pipelineTopics } from '../test/support/joiner-process.js';
import { uniqueName } from '../test/support/collect.js';
const prefix = uniqueName('apibench');
const env = joinerEnvironment({ clientId: prefix, topics: pipelineTopics(prefix), partitions: 3, extra: {} });
const run = await JoinerProcess.start({ name: prefix, env, processors: ['joiner'] });
await new Promise((r) => setTimeout(r, 1000));
try {
  const make = (r: number, i: number) => ({ prediction_id: `${prefix}-${r}-${i}`, model: 'bench', model_version: 'v1', timestamp: Date.now() - 1000, features: { a: i, b: r, c: 0.5, d: 1, e: 2, f: 3, g: 4, h: 5 }, categorical: { country: 'DE' }, score: 0.4 });
  const post = async (body: unknown) => {
    const res = await fetch(`http://127.0.0.1:${run.port}/v1/predictions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status !== 202) throw new Error(`${res.status} ${await res.text()}`);
  };
  await post({ events: Array.from({ length: 1000 }, (_, i) => make(-1, i)) }); // warm-up (schema registration)
  for (const [label, batch, requests, concurrency] of [['batched 1000, 1 client', 1000, 20, 1], ['batched 1000, 4 clients', 1000, 40, 4], ['single, 8 clients', 1, 2000, 8], ['single, 64 clients', 1, 4000, 64]] as const) {
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const r = next++;
        await post(batch === 1 ? make(r, 0) : { events: Array.from({ length: batch }, (_, i) => make(r, i)) });
      }
    }));
    const s = (performance.now() - started) / 1000;
    console.log(`${label}: ${requests} requests, ${requests * batch} events in ${s.toFixed(2)} s = ${(requests / s).toFixed(1)} req/s, ${Math.round((requests * batch) / s)} events/s`);
  }
} finally {
  await run.stop();
}
