/**
 * The evaluator's partials on the real ClickHouse (docs/scale-out.md): one
 * model's stream of labelled examples, with corrections (chains of them),
 * expired predictions, two segments and a challenger, split into 2 shards
 * by prediction id (Kafka's partitioner, as bench/shards.ts and the property
 * test), each shard run through the evaluator core, its partials written
 * through the real ClickHouse sink into `metric_partials` with its own
 * offsets as versions. The view `metric_points_merged` then gives, for every
 * window the unsharded evaluator wrote, its figures: the counts and the
 * figures of counts exactly, the float-sum figures (log_loss, brier, ece)
 * within the tolerance the core states, auc_binned within its bound of the
 * unsharded roc_auc; and bit for bit what the TypeScript merge of the same
 * partials derives. Re-delivered rows (the same versions) change nothing; a
 * row of a higher version replaces its shard's row, a lower one does not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseStore, MERGED_METRICS, mergedPointsQuery, shardPartialOf, type MetricPartialRow } from '../../adapters/clickhouse/index.js';
import { mergeRuns, shard } from '../../bench/shards.js';
import { systemClock } from '../../core/clock.js';
import {
  Evaluator, shardPartialRow, windowFigures, windowPartialKey, type EvaluatorOptions, type EvaluatorRows, type MetricPoint, type ShardPartialRow, type Versioned, type WindowPartialRow,
} from '../../core/evaluate/index.js';
import { type LabelledExample, noExampleClasses } from '../../core/events.js';
import { ClickHouseEvaluatorSink, pointKey } from '../../sinks/evaluator-rows.js';
import { uniqueName } from '../support/collect.js';
import { byWindow, expectMergedMatchesPoints, mergedWindowKey, type MergedRow } from '../support/merged-points.js';
import { requireStack, STACK } from '../support/stack.js';

const T0 = 1_763_942_400_000; // 2025-11-24T00:00:00Z
const MINUTE = 60_000;
const MODEL = 'hot';
/** Few exact scores and coarse bins: windows switch to bins, and auc_binned differs from the exact AUC. */
const OPTIONS: Partial<EvaluatorOptions> = { aucExactLimit: 30, aucBins: 50 };
const DRAIN_EVERY = 25;
const DELAY_ACCURACY = 0.01;

/** A deterministic stream: 400 predictions over 6 hours, labels within an hour (1 in 10 expired), 1 in 5 corrected (some twice). */
function stream(): LabelledExample[] {
  let seed = 12345;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const out: LabelledExample[] = [];
  const corrections: LabelledExample[] = [];
  for (let i = 0; i < 400; i++) {
    const timestamp = T0 + Math.floor((i * 6 * 60 * MINUTE) / 400);
    const score = Math.round(random() * 1000) / 1000;
    const label = random() < 0.1 ? null : random() < score ? 1 : 0;
    const delay = Math.floor(random() * 60 * MINUTE);
    const labelled = label !== null;
    const x: LabelledExample = {
      example_id: `p${i}#1`, prediction_id: `p${i}`, model: MODEL, model_version: 'v1', timestamp, features: {}, categorical: {},
      segments: { region: random() < 0.5 ? 'eu' : 'us' }, score, threshold: 0.5, label, feedback_type: labelled ? 'USER_CONFIRMED' : null, source: labelled ? 'u' : null,
      feedback_timestamp: labelled ? timestamp + delay : null, label_delay_ms: labelled ? delay : null, correction_of: null, replaces: null, arrival: false,
      shadow_scores: { [`${MODEL}/lr@1`]: Math.round(random() * 1000) / 1000 }, ...noExampleClasses(),
    };
    out.push(x);
    if (labelled && random() < 0.2) corrections.push(x);
  }
  // Corrections after the first labels, each flipping the label in force; every third corrected again.
  const inForce = new Map(out.map((x) => [x.prediction_id, x]));
  const correct = (old: LabelledExample, n: number): LabelledExample => {
    const x: LabelledExample = {
      ...old, example_id: `${old.prediction_id}#${n}`, label: 1 - old.label!, feedback_type: 'EXPERT_REVIEW', source: 'analyst', feedback_timestamp: old.feedback_timestamp! + 1000,
      correction_of: old.example_id,
      replaces: { label: old.label, feedback_type: old.feedback_type!, source: old.source, feedback_timestamp: old.feedback_timestamp!, label_class: null, rejected_class: null, labels: null },
    };
    inForce.set(x.prediction_id, x);
    return x;
  };
  corrections.forEach((c, k) => {
    out.push(correct(inForce.get(c.prediction_id)!, 2));
    if (k % 3 === 0) out.push(correct(inForce.get(c.prediction_id)!, 3));
  });
  return out;
}

/** The unsharded evaluator: the last point of each key, and of each window its last partial. */
function unsharded(examples: LabelledExample[]) {
  const evaluator = new Evaluator(OPTIONS);
  const points = new Map<string, MetricPoint>();
  const windows = new Map<string, WindowPartialRow>();
  const take = () => {
    for (const r of evaluator.partials()) windows.set(windowPartialKey(r), r);
    for (const p of evaluator.drain().points) points.set(pointKey(p), p);
  };
  examples.forEach((e, i) => {
    evaluator.onExample(e);
    if ((i + 1) % DRAIN_EVERY === 0) take();
  });
  take();
  return { points, windows };
}

/** A shard through the evaluator core: its rows per drain, each partial versioned by the shard's offset after it (as the processor does). */
function shardRows(examples: LabelledExample[], shardId: number): EvaluatorRows[] {
  const evaluator = new Evaluator(OPTIONS);
  const out: EvaluatorRows[] = [];
  const take = (offset: number) => {
    const partials: Array<Versioned<ShardPartialRow>> = evaluator.partials().map((p) => ({ value: shardPartialRow(evaluator.options, p, shardId), version: offset }));
    evaluator.drain();
    out.push({ points: [], drift: [], feedback: [], charts: [], examples: [], partials });
  };
  examples.forEach((e, i) => {
    evaluator.onExample(e);
    if ((i + 1) % DRAIN_EVERY === 0) take(i + 1);
  });
  take(examples.length);
  return out;
}

/**
 * How far the view's figure may be from the TypeScript merge of the same partials: 0 (bit for bit) but for
 * - the figures of float sums: ClickHouse 18.16 parses text floats (JSONEachRow) with its "fast" method, which
 *   its source says may differ from the correctly rounded value in the last bit: each shard's stored sum is
 *   within an ulp (2^-52 relative) of the written one, so log_loss and brier within 2 ulps of theirs (2 shards,
 *   non-negative sums), ece within 2^-51 (its bins' score sums add up to at most its count) plus its rounding;
 * - the label-delay quantiles: a bucket's value through ClickHouse's pow against JavaScript's **.
 */
function parseSlack(metric: string, value: number | null): number {
  if (value === null) return 0;
  if (metric === 'log_loss' || metric === 'brier' || metric.startsWith('label_delay_')) return 4 * Number.EPSILON * Math.abs(value);
  if (metric === 'ece') return 4 * Number.EPSILON * (1 + Math.abs(value));
  return 0;
}

/** |a - b| within `ulps` units in the last place of b. */
const withinUlps = (a: number, b: number, ulps: number) => Math.abs(a - b) <= ulps * Number.EPSILON * Math.abs(b);

const windowKeyOf = (r: MergedRow) => mergedWindowKey(MODEL, r);

describe('metric_partials and metric_points_merged on the real ClickHouse', () => {
  let store: ClickHouseStore;
  let sink: ClickHouseEvaluatorSink;
  const database = uniqueName('test_partials').replace(/-/g, '_');
  const examples = stream();
  const reference = unsharded(examples);
  const shards = shard(examples, 2);
  const rowsOfShards = shards.map((s, i) => shardRows(s, i));
  const lastOf = (rows: EvaluatorRows[]) => {
    const last = new Map<string, WindowPartialRow>();
    for (const r of rows) for (const p of r.partials!) last.set(windowPartialKey(p.value), p.value);
    return last;
  };
  const merged = mergeRuns(rowsOfShards.map(lastOf), DELAY_ACCURACY);
  const merge = () => store.select<MergedRow>(`SELECT * FROM metric_points_merged WHERE model = '${MODEL}' ORDER BY role, model_version, segment, window, window_start_ms, metric`);

  beforeAll(async () => {
    await requireStack('clickhouse');
    store = await ClickHouseStore.open({ url: STACK.clickhouseUrl, database, username: 'default', password: '', requestTimeoutMs: 30_000 });
    sink = new ClickHouseEvaluatorSink(store, systemClock, { maxRows: 1000, maxBytes: 8_000_000 });
    // The two shards' writes interleaved, as two tasks' flushes come.
    for (let i = 0; i < Math.max(...rowsOfShards.map((r) => r.length)); i++) {
      for (const rows of rowsOfShards) if (rows[i]) await sink.writeBatch([rows[i]!]);
    }
  });

  afterAll(async () => {
    await store?.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
    await store?.close();
  });

  it('the stream is what the test needs: corrections, expired predictions, both shards, binned and exact windows', () => {
    expect(examples.filter((e) => e.correction_of !== null).length).toBeGreaterThan(50);
    expect(examples.filter((e) => e.label === null).length).toBeGreaterThan(20);
    expect(shards.map((s) => s.length).every((n) => n > 150)).toBe(true);
    const binned = [...reference.windows.values()].filter((w) => w.partial.metric.tp + w.partial.metric.fp + w.partial.metric.tn + w.partial.metric.fn > 30);
    expect(binned.length).toBeGreaterThan(0);
  });

  it('every window the unsharded evaluator wrote, merged from both shards: its points (counts exactly, floats within the tolerance, auc_binned within its bound)', async () => {
    const rows = await merge();
    const windows = byWindow(MODEL, rows);
    expect(new Set(windows.keys())).toEqual(new Set(reference.windows.keys()));
    expect(Math.max(...rows.map((r) => Number(r.shards)))).toBe(2);
    for (const [key, figures] of windows) {
      const window = reference.windows.get(key)!;
      const mine = windowFigures(merged.get(key)!.partial, DELAY_ACCURACY) as unknown as Record<string, number | null>;
      const champion = window.role === 'champion';
      expect(figures.map((f) => f.metric).sort()).toEqual(MERGED_METRICS.filter((m) => champion || !['labelled', 'expired', 'label_coverage', 'label_delay_p50', 'label_delay_p95'].includes(m)).sort());
      for (const f of figures) {
        const where = `${key.split('\u0000').join('|')} ${f.metric}`;
        // The TypeScript merge of the same partials: bit for bit, but for ClickHouse's float parse of the sums and pow against **.
        const slack = parseSlack(f.metric, mine[f.metric] ?? null);
        if (slack === 0) expect(f.value, where).toBe(mine[f.metric]);
        else expect(Math.abs(f.value! - mine[f.metric]!), where).toBeLessThanOrEqual(slack);
      }
    }
    // And the unsharded evaluator's points.
    const { compared, binnedDiffers } = expectMergedMatchesPoints(MODEL, rows, (key, metric) => reference.points.get(`${key}\u0000${metric}`), 2 * examples.length);
    expect(compared).toBeGreaterThan(500);
    // The binned AUC is not the exact one everywhere (the check of the bound could fail).
    expect(binnedDiffers).toBeGreaterThan(0);
  });

  // ClickHouse stores a view as its own formatting of the query and parses that at start-up. 18.16 wrote
  // `(s_delay.1)[-1]` back as `s_delay.1[-1]`, which it cannot parse: after the migration, a restarted
  // ClickHouse refused to start (CI's evaluator-faults restart). DETACH + ATTACH parses the stored text.
  it('the view\'s stored definition parses again (as at a ClickHouse restart), and gives the same rows', async () => {
    const before = await merge();
    await store.command('DETACH TABLE metric_points_merged');
    await store.command('ATTACH TABLE metric_points_merged');
    expect(await merge()).toEqual(before);
    expect(before.length).toBeGreaterThan(100);
  });

  it('mergedPointsQuery (the filter on metric_partials itself) gives the view\'s rows of what it keeps', async () => {
    const order = 'ORDER BY role, model_version, segment, window, window_start_ms, metric';
    const view = await store.select<MergedRow>(`SELECT * FROM metric_points_merged WHERE model = '${MODEL}' AND window = '1h' ${order}`);
    const query = await store.select<MergedRow>(`SELECT * FROM (${mergedPointsQuery(`model = '${MODEL}' AND window = '1h'`)}) ${order}`);
    expect(view.length).toBeGreaterThan(100);
    expect(query).toEqual(view);
    expect(await store.select(`SELECT * FROM (${mergedPointsQuery("model = 'no such model'")})`)).toEqual([]);
  });

  it("the rows read back are the shards' last partials (the float sums within an ulp)", async () => {
    const read = await store.select<MetricPartialRow>(`SELECT * FROM metric_partials FINAL WHERE model = '${MODEL}'`);
    const last = rowsOfShards.map(lastOf);
    expect(read.length).toBe(last[0]!.size + last[1]!.size);
    let floats = 0;
    let offByParse = 0;
    for (const row of read) {
      const { partial } = shardPartialOf(row);
      const written = last[Number(row.shard)]!.get(windowPartialKey(shardPartialOf(row)))!.partial;
      const where = windowPartialKey(shardPartialOf(row)).split('\u0000').join('|');
      // Counts, weights, the sketch and the timestamp exactly (integers parse exactly); the float sums within an ulp (parseSlack).
      const exactPart = (p: typeof partial) => ({ ...p, metric: { ...p.metric, logLossSum: 0, brierSum: 0, calibration: { ...p.metric.calibration, score: null } } });
      expect(exactPart(partial), where).toEqual(exactPart(written));
      const sums: Array<[number, number]> = [[partial.metric.logLossSum, written.metric.logLossSum], [partial.metric.brierSum, written.metric.brierSum]];
      partial.metric.calibration.score.forEach((x, b) => sums.push([x, written.metric.calibration.score[b]!]));
      for (const [x, y] of sums) {
        floats++;
        if (x !== y) offByParse++;
        expect(withinUlps(x, y, 1), `${where}: ${x} read, ${y} written`).toBe(true);
      }
    }
    expect(floats).toBeGreaterThan(1000);
    console.log(`metric_partials read back: ${offByParse} of ${floats} float sums one ulp off (ClickHouse's text float parse)`);
  });

  it('exactly once by versioned rows per shard: a re-delivery changes nothing, a higher version replaces, a lower one does not', async () => {
    const before = await merge();
    // Shard 0's every write again (a task that crashed before its commit writes the same rows with the same versions).
    for (const rows of rowsOfShards[0]!) await sink.writeBatch([rows]);
    expect(await merge()).toEqual(before);

    // One window of shard 0, with one more true positive in a bin of its own, at a higher version.
    const [key, row] = [...lastOf(rowsOfShards[0]!)].find(([, r]) => r.role === 'champion' && r.window === '1h')!;
    const version = Math.max(...rowsOfShards[0]!.flatMap((r) => r.partials!.map((p) => p.version)));
    const bumped = structuredClone(row) as ShardPartialRow;
    bumped.partial.metric.tp += 1;
    bumped.partial.metric.scorePositives[49] = bumped.partial.metric.scorePositives[49]! + 1;
    const write = (value: ShardPartialRow, v: number) => sink.writeBatch([{ points: [], drift: [], feedback: [], charts: [], examples: [], partials: [{ value, version: v }] }]);
    await write(bumped, version + 1);
    const figure = async (metric: string) => (await merge()).find((r) => windowKeyOf(r) === key && r.metric === metric)!;
    const tpBefore = before.find((r) => windowKeyOf(r) === key && r.metric === 'tp')!;
    expect((await figure('tp')).value).toBe(tpBefore.value! + 1);
    expect((await figure('count')).value).toBe(before.find((r) => windowKeyOf(r) === key && r.metric === 'count')!.value! + 1);
    expect((await figure('tp')).version).toBe(String(Math.max(version + 1, Number(tpBefore.version))));
    // An older row of the same shard and window (a late retry of an earlier write) does not replace it.
    await write(row as ShardPartialRow, version);
    expect((await figure('tp')).value).toBe(tpBefore.value! + 1);
    // Nor after ClickHouse merged the parts.
    await store.command('OPTIMIZE TABLE metric_partials FINAL');
    expect((await figure('tp')).value).toBe(tpBefore.value! + 1);
    expect((await store.select<{ n: string }>(`SELECT count() AS n FROM metric_partials WHERE model = '${MODEL}'`))[0]!.n).toBe(
      String(rowsOfShards.map(lastOf).reduce((n, m) => n + m.size, 0)),
    );
  });
});
