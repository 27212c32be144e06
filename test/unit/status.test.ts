/**
 * `feedbackloop status`, the pure parts: the Prometheus text reader (also
 * on prom-client's own output), choosing each model's champion and naming
 * its source, the figures, pending joins, consumer lag, and the text report.
 * The servers' side is test/integration/status.test.ts.
 */
import { Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../adapters/config/index.js';
import { parsePrometheusText } from '../../adapters/http/index.js';
import { defaultMetricsUrls, defaultWindow } from '../../cli/commands/status.js';
import { consumerGroups, PROCESSOR_NAMES } from '../../runtime/pipeline.js';
import {
  championMoves,
  chooseChampions,
  currentPins,
  figuresByModel,
  formatStatus,
  groupStatus,
  latestFiguresQuery,
  latestMergedFiguresQuery,
  latestMoves,
  MERGED_STATUS_METRICS,
  STATUS_METRICS,
  mergedModels,
  shardedByPrediction,
  pendingJoins,
  renderTable,
  topicLagStatus,
  upstreamVersions,
  type ChampionMove,
  type MetricPointRow,
  type StatusReport,
} from '../../runtime/status/index.js';
import type { PromotionDecision } from '../../core/events.js';
import { SAMPLES } from '../support/samples.js';

const T0 = 1_763_942_400_000; // 2025-11-24T00:00:00Z
const MIN = 60_000;
const HOUR = 60 * MIN;

describe('parsePrometheusText', () => {
  it('reads samples, labels with escapes, special values, timestamps, and declared types', () => {
    const text = [
      '# HELP feedbackloop_consumer_lag Records not yet committed.',
      '# TYPE feedbackloop_consumer_lag gauge',
      'feedbackloop_consumer_lag{group="fl-joiner",topic="predictions"} 12',
      'feedbackloop_consumer_lag{group="fl-joiner", topic="feed\\"back\\\\x\\ny"} 3.5e2 1700000000000',
      '# TYPE feedbackloop_joiner_pending_predictions gauge',
      'up 1',
      'nan_metric NaN',
      'inf_metric{le="+Inf"} +Inf',
      'neg_metric -Inf',
      'empty_labels{} -0.25',
      '',
      'garbage line here',
      'bad{a=1} 2',
    ].join('\n');
    const parsed = parsePrometheusText(text);
    expect(parsed.samples.slice(0, 3)).toEqual([
      { name: 'feedbackloop_consumer_lag', labels: { group: 'fl-joiner', topic: 'predictions' }, value: 12 },
      { name: 'feedbackloop_consumer_lag', labels: { group: 'fl-joiner', topic: 'feed"back\\x\ny' }, value: 350 },
      { name: 'up', labels: {}, value: 1 },
    ]);
    expect(parsed.samples[3]!.value).toBeNaN();
    expect(parsed.samples.slice(4)).toEqual([
      { name: 'inf_metric', labels: { le: '+Inf' }, value: Number.POSITIVE_INFINITY },
      { name: 'neg_metric', labels: {}, value: Number.NEGATIVE_INFINITY },
      { name: 'empty_labels', labels: {}, value: -0.25 },
    ]);
    expect([...parsed.types]).toEqual([
      ['feedbackloop_consumer_lag', 'gauge'],
      ['feedbackloop_joiner_pending_predictions', 'gauge'],
    ]);
    expect(parsed.malformed).toEqual([
      { line: 12, text: 'garbage line here' },
      { line: 13, text: 'bad{a=1} 2' },
    ]);
  });

  it("reads prom-client's own output back, including a gauge with no value yet", async () => {
    const registry = new Registry();
    const pending = new Gauge({ name: 'feedbackloop_joiner_pending_predictions', help: 'x "quoted" \\ help', labelNames: ['partition'], registers: [registry] });
    new Gauge({ name: 'nothing_yet', help: 'declared only', labelNames: ['partition'], registers: [registry] });
    pending.set({ partition: '0' }, 17);
    pending.set({ partition: '2' }, 4);
    const parsed = parsePrometheusText(await registry.metrics());
    expect(parsed.malformed).toEqual([]);
    expect(parsed.samples).toEqual([
      { name: 'feedbackloop_joiner_pending_predictions', labels: { partition: '0' }, value: 17 },
      { name: 'feedbackloop_joiner_pending_predictions', labels: { partition: '2' }, value: 4 },
    ]);
    expect(parsed.types.get('nothing_yet')).toBe('gauge');
  });
});

const move = (model: string, k: number, overrides: Partial<ChampionMove> = {}): ChampionMove => ({
  model, decision: 'PROMOTE', decision_id: `${model}#${k}`, from_version: 'v1', to_version: `${model}/lr@${k}`,
  actor: 'feedbackloop-promoter (fl)', policy: 'asymptotic-cs alpha=0.05', reason: `lr@${k} better`, at: T0 + k * MIN, decided_at: T0 + k * HOUR, ...overrides,
});

describe('choosing the champion', () => {
  it('keeps PROMOTE and ROLLBACK only, and the latest by (decided_at, at), the later record among equals', () => {
    const decision = (d: Partial<PromotionDecision>): PromotionDecision => ({ ...SAMPLES.PromotionDecision, model: 'fraud', ...d });
    const moves = championMoves([
      decision({ decision_id: 'fraud#1', decision: 'PROMOTE', to_version: 'fraud/lr@1', at: T0 + 10 * MIN, decided_at: T0 + HOUR }),
      // Published together (one promoter batch): `at` orders them, not the record order.
      decision({ decision_id: 'fraud#3', decision: 'ROLLBACK', to_version: 'v1', at: T0 + 30 * MIN, decided_at: T0 + 2 * HOUR }),
      decision({ decision_id: 'fraud#2', decision: 'PROMOTE', to_version: 'fraud/lr@2', at: T0 + 20 * MIN, decided_at: T0 + 2 * HOUR }),
      decision({ decision_id: 'fraud#4', decision: 'PIN', to_version: 'v1', at: T0 + 40 * MIN, decided_at: T0 + 3 * HOUR }),
      decision({ decision_id: 'fraud#5', decision: 'HOLD', to_version: 'v1', at: T0 + 50 * MIN, decided_at: T0 + 4 * HOUR }),
      decision({ model: 'churn', decision_id: 'churn#1', decision: 'PROMOTE', to_version: 'churn/a@1', at: T0, decided_at: T0 }),
      decision({ model: 'churn', decision_id: 'churn#2', decision: 'PROMOTE', to_version: 'churn/b@1', at: T0, decided_at: T0 }),
    ]);
    expect(moves.map((m) => m.decision_id)).toEqual(['fraud#1', 'fraud#3', 'fraud#2', 'churn#1', 'churn#2']);
    const latest = latestMoves(moves);
    expect(latest.get('fraud')).toMatchObject({ decision_id: 'fraud#3', decision: 'ROLLBACK', to_version: 'v1' });
    expect(latest.get('churn')).toMatchObject({ decision_id: 'churn#2', to_version: 'churn/b@1' });
  });

  it('takes the later decision of the topic and champion_history, names every source that agrees, and explains a disagreement', () => {
    const topic = new Map([
      ['agree', move('agree', 2)],
      ['behind', move('behind', 3)],
      ['retained', move('retained', 1)],
      ['topic-only', move('topic-only', 1)],
    ]);
    const history = new Map([
      ['agree', move('agree', 2)],
      ['behind', move('behind', 2)],
      ['retained', move('retained', 4)],
      ['history-only', move('history-only', 1)],
    ]);
    const upstream = new Map([
      ['agree', { version: 'v9', source: 'metric_points' as const }],
      ['undecided', { version: 'v3', source: 'metric_points' as const }],
      ['undecided-sharded', { version: 'v4', source: 'metric_points_merged' as const }],
    ]);
    const champions = chooseChampions({ topic, history, upstream });
    expect(champions.map((c) => [c.model, c.version, c.sources.join('+'), c.note])).toEqual([
      ['agree', 'agree/lr@2', 'model-promotions+champion_history', null],
      ['behind', 'behind/lr@3', 'model-promotions', 'champion_history still names behind/lr@2 (behind#2): is the registry processor running?'],
      ['history-only', 'history-only/lr@1', 'champion_history', 'history-only#1 is no longer on the model-promotions topic (retention)'],
      ['retained', 'retained/lr@4', 'champion_history', 'retained#4 is no longer on the model-promotions topic (retention)'],
      ['topic-only', 'topic-only/lr@1', 'model-promotions', 'champion_history has no decision for it yet: is the registry processor running?'],
      ['undecided', 'v3', 'metric_points', 'no promotion decision: the version upstream serves (latest figures, role champion)'],
      ['undecided-sharded', 'v4', 'metric_points_merged', 'no promotion decision: the version upstream serves (latest figures, role champion)'],
    ]);
    expect(champions[0]!.decision).toEqual(move('agree', 2));
    expect(champions[5]!.decision).toBeNull();
  });

  it('with one source read, says nothing of the other', () => {
    expect(chooseChampions({ topic: new Map([['m', move('m', 1)]]) })).toEqual([
      { model: 'm', version: 'm/lr@1', sources: ['model-promotions'], decision: move('m', 1), note: null, pinned: null },
    ]);
    expect(chooseChampions({ history: new Map([['m', move('m', 1)]]) })).toEqual([
      { model: 'm', version: 'm/lr@1', sources: ['champion_history'], decision: move('m', 1), note: null, pinned: null },
    ]);
    expect(chooseChampions({})).toEqual([]);
  });

  it('shows a model pinned by its latest PIN, not after an UNPIN', () => {
    const decision = (d: Partial<PromotionDecision>): PromotionDecision => ({ ...SAMPLES.PromotionDecision, model: 'fraud', ...d });
    const pins = currentPins([
      decision({ decision_id: 'manual:1', decision: 'PIN', actor: 'user:alice', reason: 'freeze', decided_at: T0 }),
      decision({ decision_id: 'manual:2', decision: 'UNPIN', actor: 'user:alice', reason: 'over', decided_at: T0 + HOUR }),
      decision({ decision_id: 'manual:3', decision: 'PIN', actor: 'user:bob', reason: 'incident 7', decided_at: T0 + 2 * HOUR }),
      decision({ model: 'churn', decision_id: 'manual:4', decision: 'PIN', actor: 'user:carol', reason: 'x', decided_at: T0 }),
      decision({ model: 'churn', decision_id: 'manual:5', decision: 'UNPIN', actor: 'user:carol', reason: 'y', decided_at: T0 + HOUR }),
    ]);
    expect([...pins]).toEqual([['fraud', { decision_id: 'manual:3', actor: 'user:bob', reason: 'incident 7', decided_at: T0 + 2 * HOUR }]]);
    const champions = chooseChampions({ topic: new Map([['fraud', move('fraud', 1)]]), pins });
    expect(champions.map((c) => [c.model, c.version, c.pinned?.actor ?? null])).toEqual([['fraud', 'fraud/lr@1', 'user:bob']]);
    // A pinned model without any move still shows.
    expect(chooseChampions({ pins }).map((c) => [c.model, c.pinned?.reason])).toEqual([['fraud', 'incident 7']]);
  });
});

const point = (p: Partial<MetricPointRow> & Pick<MetricPointRow, 'metric' | 'value'>): MetricPointRow => ({
  model: 'fraud', role: 'champion', model_version: 'v1', window: 'total', window_start_ms: 0, window_end_ms: T0 + 5 * HOUR, count: 100, ...p,
});

describe('figures', () => {
  const rows: MetricPointRow[] = [
    point({ metric: 'count', value: 100 }),
    point({ metric: 'roc_auc', value: 0.91 }),
    point({ metric: 'label_coverage', value: 0.8 }),
    point({ metric: 'label_delay_p50', value: 90 * MIN }),
    point({ role: 'challenger', model_version: 'fraud/lr', metric: 'count', value: 100 }),
    point({ role: 'challenger', model_version: 'fraud/lr', metric: 'roc_auc', value: null }),
    point({ window: '1d', window_start_ms: T0, window_end_ms: T0 + 24 * HOUR, metric: 'count', value: 40 }),
    // The version upstream served before v1: its total ends earlier.
    point({ model_version: 'v0', window_end_ms: T0 + HOUR, metric: 'count', value: 10 }),
    point({ model: 'price', model_version: 'p2', metric: 'rmse', value: 3.25 }),
    point({ model: 'price', model_version: 'p2', metric: 'mae', value: 2 }),
  ];

  it('groups by model, window (tumbling first), role and version, tells binary from regression, and marks open windows', () => {
    const figures = figuresByModel(rows, T0 + 12 * HOUR);
    expect(figures.map((m) => [m.model, m.task])).toEqual([['fraud', 'binary'], ['price', 'regression']]);
    expect(figures[0]!.lines.map((l) => [l.window, l.role, l.version, l.open, l.figures])).toEqual([
      ['1d', 'champion', 'v1', true, { count: 40 }],
      ['total', 'champion', 'v0', false, { count: 10 }],
      ['total', 'champion', 'v1', false, { count: 100, roc_auc: 0.91, label_coverage: 0.8, label_delay_p50: 90 * MIN }],
      ['total', 'challenger', 'fraud/lr', false, { count: 100, roc_auc: null }],
    ]);
    expect(figuresByModel(rows, T0 + 24 * HOUR)[0]!.lines[0]!.open).toBe(false);
  });

  it('tells multi-class and multi-label models by their figures, and shows theirs, merged from shards too', () => {
    const classRows = [
      point({ model: 'triage', metric: 'count', value: 300, shards: 2 }),
      point({ model: 'triage', metric: 'accuracy', value: 0.6, shards: 2 }),
      point({ model: 'triage', metric: 'macro_f1', value: 0.5, shards: 2 }),
      point({ model: 'triage', metric: 'log_loss', value: 1.1, shards: 2 }),
      point({ model: 'triage', metric: 'label_coverage', value: 0.9, shards: 2 }),
      point({ model: 'tags', metric: 'count', value: 50 }),
      point({ model: 'tags', metric: 'subset_accuracy', value: 0.25 }),
      point({ model: 'tags', metric: 'hamming_loss', value: 0.2 }),
      point({ model: 'tags', metric: 'macro_f1', value: 0.4 }),
    ];
    const models = figuresByModel(classRows, T0 + 36 * HOUR, new Map([['triage', 2]]));
    expect(models.map((m) => [m.model, m.task, m.shards])).toEqual([['tags', 'multilabel', null], ['triage', 'multiclass', 2]]);
    for (const name of ['accuracy', 'macro_f1', 'subset_accuracy', 'hamming_loss']) {
      expect(STATUS_METRICS).toContain(name);
      expect(MERGED_STATUS_METRICS).toContain(name);
    }
    const text = formatStatus({ at: T0 + 36 * HOUR, kafka: { brokers: ['k:9092'], client_id: 'fl' }, clickhouse: { url: 'http://ch:8123', database: 'fl' }, champions: [], figures: { window: '1d', models }, pending: pendingJoins([]), lag: [], notes: [], problems: [] });
    expect(text).toContain(['  tags (multilabel)', '    window  role      version   n  subset_accuracy  hamming_loss  macro_f1  coverage  delay p50', '    total   champion  v1       50            0.250         0.200     0.400         –          –'].join('\n'));
    expect(text).toContain('  triage (multiclass; merged over 2 shards: metric_partials summed as metric_points_merged)');
    expect(text).toContain('    total   champion  v1       300     0.600     0.500     1.100     90.0%          –       2');
  });

  it('the upstream version is the champion role of the total window that ends last', () => {
    expect([...upstreamVersions(rows)]).toEqual([['fraud', { version: 'v1', source: 'metric_points' }], ['price', { version: 'p2', source: 'metric_points' }]]);
  });

  it('names the merged rows as the source of a sharded model\'s upstream version (its rows carry their shard count)', () => {
    const merged = rows.map((r) => (r.model === 'price' ? { ...r, shards: 2 } : r));
    expect(upstreamVersions(merged).get('price')).toEqual({ version: 'p2', source: 'metric_points_merged' });
    expect(upstreamVersions(merged).get('fraud')).toEqual({ version: 'v1', source: 'metric_points' });
  });

  it('the query asks for total and the latest ended window per model, in SQL ClickHouse 18.16 takes (no parameters)', () => {
    const sql = latestFiguresQuery('1d', T0);
    expect(sql).toContain(`window = '1d' AND (model, window_start_ms) IN (`);
    expect(sql).toContain(`if(countIf(window_end_ms <= ${T0}) > 0, maxIf(window_start_ms, window_end_ms <= ${T0}), max(window_start_ms))`);
    expect(sql).toContain(`metric IN ('count', 'roc_auc', 'log_loss', 'precision', 'recall', 'label_coverage', 'label_delay_p50', 'rmse', 'mae', 'accuracy', 'macro_f1', 'subset_accuracy', 'hamming_loss')`);
    expect(latestFiguresQuery("1d' OR 1=1 --", T0)).toContain(`window = '1d\\' OR 1=1 --'`);
  });

  it('a model is read merged with partials of more than one shard, or of any when the deployment shards by prediction', () => {
    const shards = [{ model: 'hot', shards: 3 }, { model: 'cold', shards: 1 }];
    expect([...mergedModels(shards, false)]).toEqual([['hot', 3]]);
    expect([...mergedModels(shards, true)]).toEqual([['hot', 3], ['cold', 1]]);
    expect([...mergedModels([], true)]).toEqual([]);
    // evaluator.shard_by, read defensively: absent (this branch), model, prediction.
    expect(shardedByPrediction(buildConfig({}))).toBe(false);
    expect(shardedByPrediction({ evaluator: { ...buildConfig({}).evaluator, shard_by: 'model' } as never })).toBe(false);
    expect(shardedByPrediction({ evaluator: { ...buildConfig({}).evaluator, shard_by: 'prediction' } as never })).toBe(true);
  });

  it('the merged query filters metric_partials itself (the model, segment *, total and the latest window), and leaves those models out of metric_points', () => {
    const sql = latestMergedFiguresQuery(['hot', "x' OR 1=1 --"], '1d', T0);
    // The filter is inside, on metric_partials FINAL, before the GROUP BY (18.16 does not push it down through the view).
    expect(sql).toMatch(/FROM metric_partials FINAL\s+WHERE model IN \('hot', 'x\\' OR 1=1 --'\) AND segment = '\*'/);
    expect(sql).toContain(`if(countIf(window_end_ms <= ${T0}) > 0, maxIf(window_start_ms, window_end_ms <= ${T0}), max(window_start_ms))`);
    expect(sql).toContain(`WHERE metric IN ('count', 'auc_binned', 'log_loss', 'precision', 'recall', 'label_coverage', 'label_delay_p50', 'rmse', 'mae', 'accuracy', 'macro_f1', 'subset_accuracy', 'hamming_loss')`);
    expect(sql).not.toContain('metric_points_merged');
    const points = latestFiguresQuery('1d', T0, ['hot']);
    expect(points.match(/AND model NOT IN \('hot'\)/g)).toHaveLength(2);
    expect(latestFiguresQuery('1d', T0)).not.toContain('NOT IN');
  });
});

describe('pending joins', () => {
  const text = (lines: string[]) => parsePrometheusText(lines.join('\n'));
  const declared = '# TYPE feedbackloop_joiner_pending_predictions gauge';

  it('sums the partitions the joiners report (a partition two report counts once) and names who answered', () => {
    const pending = pendingJoins([
      { url: 'http://a/metrics', text: text([declared, 'feedbackloop_joiner_pending_predictions{partition="0"} 5', 'feedbackloop_joiner_pending_predictions{partition="1"} 7']) },
      { url: 'http://b/metrics', text: text([declared, 'feedbackloop_joiner_pending_predictions{partition="1"} 6', 'feedbackloop_joiner_pending_predictions{partition="2"} 1']) },
      { url: 'http://c/metrics', text: text(['# TYPE feedbackloop_consumer_lag gauge']) },
      { url: 'http://d/metrics', error: 'ECONNREFUSED' },
    ]);
    expect(pending).toEqual({
      total: 13,
      partitions: { 0: 5, 1: 7, 2: 1 },
      sources: [
        { url: 'http://a/metrics', answer: 'joiner' },
        { url: 'http://b/metrics', answer: 'joiner' },
        { url: 'http://c/metrics', answer: 'no joiner' },
        { url: 'http://d/metrics', answer: 'unreachable', error: 'ECONNREFUSED' },
      ],
    });
  });

  it('a joiner holding no partition yet reports 0; no joiner at all is unknown (null)', () => {
    expect(pendingJoins([{ url: 'u', text: text([declared]) }]).total).toBe(0);
    expect(pendingJoins([{ url: 'u', error: 'ECONNREFUSED' }]).total).toBeNull();
    expect(pendingJoins([{ url: 'u', text: text(['up 1']) }]).total).toBeNull();
    expect(pendingJoins([]).total).toBeNull();
  });
});

describe('consumer lag', () => {
  it('a group that committed nothing on any input is not started; its lag is all of them', () => {
    const partitions = [
      { partition: 0, end: 5, committed: 2, lag: 3 },
      { partition: 1, end: 2, committed: null, lag: 2 },
    ];
    expect(groupStatus('joiner', 'g', [topicLagStatus('in', partitions)])).toEqual({ processor: 'joiner', group: 'g', started: true, lag: 5, topics: [{ topic: 'in', lag: 5, partitions }] });
    const none = partitions.map((p) => ({ ...p, committed: null, lag: p.end }));
    expect(groupStatus('learner', 'h', [topicLagStatus('in', none), topicLagStatus('other', [])])).toMatchObject({ started: false, lag: 7 });
    expect(groupStatus('x', 'y', [topicLagStatus('in', partitions), { topic: 'gone', lag: null, partitions: [], error: 'no such topic' }]).lag).toBeNull();
  });

  it('the groups are those of run: <client_id>-<processor> over its input topics', () => {
    const config = buildConfig({ kafka: { client_id: 'fl' }, topics: { predictions: 'p', feedback: 'f', labelled_examples: 'le' } });
    expect(consumerGroups(config, PROCESSOR_NAMES)).toEqual([
      { processor: 'joiner', groupId: 'fl-joiner', topics: ['p', 'f'] },
      { processor: 'learner', groupId: 'fl-learner', topics: ['le'] },
      { processor: 'promoter', groupId: 'fl-promoter', topics: ['le'] },
      { processor: 'evaluator', groupId: 'fl-evaluator', topics: ['le'] },
      { processor: 'archive', groupId: 'fl-archive', topics: ['p'] },
      { processor: 'registry', groupId: 'fl-registry', topics: ['model-snapshots', 'model-promotions'] },
    ]);
  });
});

describe('defaults', () => {
  it('asks /metrics on the configured port of this machine, and shows the longest window', () => {
    expect(defaultMetricsUrls(buildConfig({}))).toEqual(['http://127.0.0.1:9464/metrics']);
    expect(defaultMetricsUrls(buildConfig({ http: { port: 0 } }))).toEqual([]);
    expect(defaultMetricsUrls(buildConfig({ http: { tls_cert_file: 'c.pem', tls_key_file: 'k.pem' } }))).toEqual(['https://127.0.0.1:9464/metrics']);
    expect(defaultWindow(buildConfig({}))).toBe('1d');
    expect(defaultWindow(buildConfig({ evaluator: { windows: ['15m', '6h', '1h'] } }))).toBe('6h');
    expect(defaultWindow(buildConfig({ evaluator: { windows: [], drift_detector_order: 'arrival' } }))).toBe('total');
  });
});

describe('the text report', () => {
  it('right-aligns all but the first columns', () => {
    expect(renderTable([['a', 'bb', 'c'], ['ccc', 'd', 'eeee']], 'lrl', '')).toEqual(['a    bb  c', 'ccc   d  eeee']);
  });

  it('shows champions with their source, figures, pending joins, lag, notes and problems', () => {
    const fraud = move('fraud', 2, { decision: 'ROLLBACK', decision_id: 'fraud#2', to_version: 'v1', reason: 'lr@2 worse than v1 after promotion' });
    const report: StatusReport = {
      at: T0 + 36 * HOUR,
      kafka: { brokers: ['k1:9092', 'k2:9092'], client_id: 'fl' },
      clickhouse: { url: 'http://ch:8123', database: 'fl' },
      champions: chooseChampions({
        topic: new Map([['fraud', fraud]]), history: new Map([['fraud', fraud]]), upstream: new Map([['price', { version: 'p2', source: 'metric_points' as const }]]),
        pins: new Map([['fraud', { decision_id: 'manual:9', actor: 'user:bob', reason: 'incident 7', decided_at: T0 + 30 * HOUR }]]),
      }),
      figures: {
        window: '1d',
        models: figuresByModel(
          [
            point({ window: '1d', window_start_ms: T0, window_end_ms: T0 + 24 * HOUR, metric: 'count', value: 1234 }),
            point({ window: '1d', window_start_ms: T0, window_end_ms: T0 + 24 * HOUR, metric: 'roc_auc', value: 0.8766 }),
            point({ window: '1d', window_start_ms: T0, window_end_ms: T0 + 24 * HOUR, metric: 'label_coverage', value: 0.5 }),
            point({ window: '1d', window_start_ms: T0, window_end_ms: T0 + 24 * HOUR, metric: 'label_delay_p50', value: 90 * MIN }),
            point({ metric: 'count', value: 5000 }),
            point({ metric: 'precision', value: null }),
            point({ role: 'challenger', model_version: 'fraud/lr', metric: 'count', value: 5000 }),
            point({ role: 'challenger', model_version: 'fraud/lr', metric: 'log_loss', value: 0.3 }),
            point({ model: 'price', model_version: 'p2', metric: 'count', value: 10 }),
            point({ model: 'price', model_version: 'p2', metric: 'rmse', value: 3.25 }),
            point({ model: 'hot', metric: 'count', value: 90_000, shards: 3 }),
            point({ model: 'hot', metric: 'auc_binned', value: 0.91234, shards: 3 }),
            point({ model: 'hot', window: '1d', window_start_ms: T0, window_end_ms: T0 + 24 * HOUR, metric: 'count', value: 20, shards: 2 }),
          ],
          T0 + 36 * HOUR,
          new Map([['hot', 3]]),
        ),
      },
      pending: pendingJoins([
        { url: 'http://j1:9464/metrics', text: parsePrometheusText('# TYPE feedbackloop_joiner_pending_predictions gauge\nfeedbackloop_joiner_pending_predictions{partition="1"} 1500\nfeedbackloop_joiner_pending_predictions{partition="0"} 20') },
        { url: 'http://j2:9464/metrics', error: 'ECONNREFUSED' },
      ]),
      lag: [
        groupStatus('joiner', 'fl-joiner', [
          topicLagStatus('predictions', [{ partition: 0, end: 10, committed: 8, lag: 2 }]),
          topicLagStatus('feedback', [{ partition: 0, end: 4, committed: 4, lag: 0 }]),
        ]),
        groupStatus('learner', 'fl-learner', [topicLagStatus('labelled-examples', [{ partition: 0, end: 1200, committed: null, lag: 1200 }])]),
        groupStatus('archive', 'fl-archive', [{ topic: 'predictions', lag: null, partitions: [], error: 'no such topic' }]),
      ],
      notes: ['a note'],
      problems: [{ server: 'schema registry', message: 'Schema registry at http://sr unreachable: is it running?', retriable: true }],
    };
    expect(formatStatus(report)).toBe(
      [
        'feedbackloop status at 2025-11-25 12:00 UTC: kafka k1:9092,k2:9092 (client id fl), clickhouse http://ch:8123 database fl',
        '',
        'Champions',
        '  model  champion  since                 from',
        '  fraud  v1        2025-11-24 00:02 UTC  model-promotions + champion_history: ROLLBACK fraud#2 by feedbackloop-promoter (fl)',
        '  price  p2        –                     metric_points',
        '    fraud: lr@2 worse than v1 after promotion',
        '    fraud: PINNED by user:bob at 2025-11-25 06:00 UTC (incident 7): no automatic decision until `feedbackloop unpin`',
        '    price: no promotion decision: the version upstream serves (latest figures, role champion)',
        '',
        "Figures (metric_points, segment *: the latest 1d window and total; sharded models: their shards' partials merged)",
        '  fraud (binary)',
        '    window               role        version       n  roc_auc  log_loss  precision  recall  coverage  delay p50',
        '    1d 2025-11-24 00:00  champion    v1        1,234    0.877         –          –       –     50.0%      1.5 h',
        '    total                champion    v1        5,000        –         –          –       –         –          –',
        '    total                challenger  fraud/lr  5,000        –     0.300          –       –         –          –',
        '  hot (binary; merged over 3 shards: metric_partials summed as metric_points_merged)',
        '    window               role      version       n  auc_binned  log_loss  precision  recall  coverage  delay p50  shards',
        '    1d 2025-11-24 00:00  champion  v1           20           –         –          –       –         –          –       2',
        '    total                champion  v1       90,000       0.912         –          –       –         –          –       3',
        '  price (regression)',
        '    window  role      version   n   rmse  mae  coverage  delay p50',
        '    total   champion  p2       10  3.250    –         –          –',
        '',
        "Pending joins (entries in the joiners' state)",
        '  1,520 (partition 0: 20, 1: 1,500) from http://j1:9464/metrics',
        '  no /metrics at http://j2:9464/metrics: ECONNREFUSED',
        '',
        'Consumer lag (records not yet committed)',
        '  processor  group                               lag  per topic',
        '  joiner     fl-joiner                             2  predictions 2, feedback 0',
        '  learner    fl-learner  not started (1,200 waiting)  labelled-examples 1,200',
        '  archive    fl-archive                            –  predictions (no such topic)',
        '',
        'Notes',
        '  a note',
        '',
        'Problems',
        '  schema registry: Schema registry at http://sr unreachable: is it running?',
        '',
      ].join('\n'),
    );
  });
});
