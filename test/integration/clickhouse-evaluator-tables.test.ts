/**
 * The evaluator's tables on the real ClickHouse: the migrations apply (and
 * apply again) on the server used in tests, every row mapper's row inserts
 * and reads back, a re-delivered row is replaced by the higher version, and
 * a ClickHouse sink keeps retrying while the server cannot be reached.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClickHouseStore,
  MIGRATIONS,
  datasetSplit,
  driftRow,
  feedbackStatRow,
  labelledExampleRow,
  metricPointRow,
} from '../../adapters/clickhouse/index.js';
import type { DriftRecord, FeedbackStat, MetricPoint } from '../../core/evaluate/rows.js';
import { type LabelledExample, noExampleClasses } from '../../core/events.js';
import { ClickHouseTableSink } from '../../sinks/index.js';
import { sleep, uniqueName } from '../support/collect.js';
import { SAMPLES } from '../support/samples.js';
import { requireStack, STACK } from '../support/stack.js';

const HOUR = 3_600_000;
const WINDOW_START = 1_763_942_400_000; // 2025-11-24T00:00:00Z

function point(overrides: Partial<MetricPoint> = {}): MetricPoint {
  return {
    model: 'fraud-detector',
    model_version: 'v7',
    role: 'champion',
    segment: 'region=eu',
    window: '1h',
    window_start: WINDOW_START,
    window_end: WINDOW_START + HOUR,
    metric: 'roc_auc',
    value: 0.91,
    count: 120,
    ...overrides,
  };
}

describe('evaluator tables on the real ClickHouse', () => {
  let store: ClickHouseStore;
  const database = uniqueName('test_eval').replace(/-/g, '_');
  const options = { url: STACK.clickhouseUrl, database, username: 'default', password: '', requestTimeoutMs: 30_000 };

  beforeAll(async () => {
    await requireStack('clickhouse');
    store = await ClickHouseStore.open(options);
  });

  afterAll(async () => {
    await store?.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
    await store?.close();
  });

  it('applies the migrations, and applies them again without error', async () => {
    const again = await ClickHouseStore.open(options);
    expect(await again.migrate(MIGRATIONS)).toEqual([]);
    // Each statement is idempotent on its own too (instances racing at start).
    for (const migration of MIGRATIONS) await again.apply(migration);
    await again.close();
    const tables = await store.select<{ name: string }>(`SELECT name FROM system.tables WHERE database = '${database}' ORDER BY name`);
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(['drift_events', 'feedback_stats', 'labelled_examples', 'metric_partials', 'metric_points', 'metric_points_merged', 'schema_migrations']),
    );
    const applied = await store.select<{ id: number }>(`SELECT id FROM schema_migrations FINAL ORDER BY id`);
    expect(applied.map((r) => Number(r.id))).toEqual(MIGRATIONS.map((m) => m.id).sort((a, b) => a - b));
  });

  it('a re-delivered metric point is replaced by the highest version; null round-trips', async () => {
    const key = { model: 'replace-test', segment: 'all' };
    await store.insert('metric_points', [metricPointRow(point({ ...key, value: 0.5 }), 1, 1_000)]);
    await store.insert('metric_points', [metricPointRow(point({ ...key, value: 0.5 }), 1, 2_000)]);
    await store.insert('metric_points', [metricPointRow(point({ ...key, value: 0.75, count: 130, window_end: WINDOW_START + 2 * HOUR }), 2, 3_000)]);
    await store.insert('metric_points', [metricPointRow(point({ ...key, metric: 'precision', value: null, count: 0 }), 1, 1_000)]);

    const rows = await store.select<Record<string, unknown>>(
      `SELECT metric, value, count, version, window_start_ms, window_end_ms, toUnixTimestamp(window_start) AS ws, toUnixTimestamp(window_end) AS we
       FROM metric_points FINAL WHERE model = 'replace-test' ORDER BY metric`,
    );
    expect(rows).toEqual([
      { metric: 'precision', value: null, count: 0, version: '1', window_start_ms: String(WINDOW_START), window_end_ms: String(WINDOW_START + HOUR), ws: WINDOW_START / 1000, we: (WINDOW_START + HOUR) / 1000 },
      { metric: 'roc_auc', value: 0.75, count: 130, version: '2', window_start_ms: String(WINDOW_START), window_end_ms: String(WINDOW_START + 2 * HOUR), ws: WINDOW_START / 1000, we: (WINDOW_START + 2 * HOUR) / 1000 },
    ]);

    // The same without FINAL, as Grafana reads it: argMax over the version.
    const latest = await store.select<{ value: number }>(
      `SELECT argMax(value, version) AS value FROM metric_points WHERE model = 'replace-test' AND metric = 'roc_auc'
       GROUP BY model, model_version, role, segment, window, window_start, metric`,
    );
    expect(latest).toEqual([{ value: 0.75 }]);
  });

  it('inserts drift events', async () => {
    const drift: DriftRecord = {
      model: 'fraud-detector',
      model_version: 'v7',
      role: 'champion',
      feature: 'amount',
      statistic: 'psi',
      value: 0.31,
      threshold: 0.2,
      detected: true,
      window: '1h',
      window_start: WINDOW_START,
      window_end: WINDOW_START + HOUR,
      at: WINDOW_START + HOUR + 5_000,
      n: 3,
    };
    await store.insert('drift_events', [driftRow(drift, 1), driftRow({ ...drift, feature: 'age_days', value: null, detected: false }, 1)]);
    const rows = await store.select<Record<string, unknown>>(
      `SELECT feature, value, threshold, detected, at_ms, toUnixTimestamp(at) AS at_s, n, window_start_ms, window_end_ms FROM drift_events FINAL ORDER BY feature`,
    );
    expect(rows).toEqual([
      { feature: 'age_days', value: null, threshold: 0.2, detected: 0, at_ms: String(drift.at), at_s: Math.floor(drift.at / 1000), n: '3', window_start_ms: String(WINDOW_START), window_end_ms: String(WINDOW_START + HOUR) },
      { feature: 'amount', value: 0.31, threshold: 0.2, detected: 1, at_ms: String(drift.at), at_s: Math.floor(drift.at / 1000), n: '3', window_start_ms: String(WINDOW_START), window_end_ms: String(WINDOW_START + HOUR) },
    ]);
  });

  it('inserts feedback stats with the day as a Date (also the epoch day)', async () => {
    const stat: FeedbackStat = {
      model: 'fraud-detector',
      day: WINDOW_START,
      feedback_type: 'EXPERT_REVIEW',
      source: 'analyst-17',
      labels: 12,
      corrections: 2,
      overturned: 1,
      overturned_by_expert: 1,
    };
    await store.insert('feedback_stats', [
      feedbackStatRow(stat, 1),
      feedbackStatRow({ ...stat, labels: 13 }, 2),
      feedbackStatRow({ ...stat, day: 0, source: '' }, 1),
    ]);
    const rows = await store.select<Record<string, unknown>>(
      `SELECT toString(day) AS day, day_ms, source, labels, corrections, overturned, overturned_by_expert, version FROM feedback_stats FINAL ORDER BY day_ms`,
    );
    expect(rows).toEqual([
      // 18.16 shows the Date of day 0 as 0000-00-00 (current releases: 1970-01-01): read day_ms.
      { day: expect.stringMatching(/^(0000-00-00|1970-01-01)$/), day_ms: '0', source: '', labels: 12, corrections: 2, overturned: 1, overturned_by_expert: 1, version: '1' },
      { day: '2025-11-24', day_ms: String(WINDOW_START), source: 'analyst-17', labels: 13, corrections: 2, overturned: 1, overturned_by_expert: 1, version: '2' },
    ]);
  });

  it('inserts labelled examples; a correction keeps the split of the example it corrects', async () => {
    const example: LabelledExample = SAMPLES.LabelledExample;
    const unlabelled: LabelledExample = {
      ...example,
      example_id: 'p-2#1',
      prediction_id: 'p-2',
      label: null,
      feedback_type: null,
      source: null,
      feedback_timestamp: null,
      label_delay_ms: null,
      shadow_scores: {},
      categorical: { country: 'DE' },
    };
    const correction: LabelledExample = {
      ...example, example_id: 'p-1#2', label: 0, correction_of: 'p-1#1', label_delay_ms: -5,
      replaces: { label_class: null, rejected_class: null, labels: null, label: 1, feedback_type: 'EXPERT_REVIEW', source: 'analyst-17', feedback_timestamp: example.feedback_timestamp! },
    };
    await store.insert('labelled_examples', [labelledExampleRow(example, 1), labelledExampleRow(unlabelled, 1), labelledExampleRow(correction, 1)]);
    const rows = await store.select<Record<string, unknown>>(
      `SELECT example_id, prediction_id, label, feedback_type, source, feedback_ts_ms, label_delay_ms, correction_of, ts_ms, toUnixTimestamp(ts) AS ts_s,
              feature_names, feature_values, categorical_names, categorical_values, segment_names, segment_values, shadow_names, shadow_values, split
       FROM labelled_examples FINAL ORDER BY example_id`,
    );
    expect(rows).toEqual([
      {
        example_id: 'p-1#1', prediction_id: 'p-1', label: 1, feedback_type: 'EXPERT_REVIEW', source: 'analyst-17', feedback_ts_ms: String(example.feedback_timestamp),
        label_delay_ms: '3600000', correction_of: '', ts_ms: String(example.timestamp), ts_s: example.timestamp / 1000,
        feature_names: ['amount'], feature_values: [129.5], categorical_names: [], categorical_values: [], segment_names: ['region'], segment_values: ['eu'],
        shadow_names: ['fraud-detector/logreg@3'], shadow_values: [0.71], split: datasetSplit('p-1'),
      },
      expect.objectContaining({ example_id: 'p-1#2', label: 0, correction_of: 'p-1#1', label_delay_ms: '-5', split: datasetSplit('p-1') }),
      expect.objectContaining({
        example_id: 'p-2#1', label: null, feedback_type: '', source: '', feedback_ts_ms: null, label_delay_ms: null, correction_of: '',
        categorical_names: ['country'], categorical_values: ['DE'], shadow_names: [], shadow_values: [], split: datasetSplit('p-2'),
      }),
    ]);
  });

  it('migration 10 adds the class columns to a labelled_examples table made before it, keeping its rows; a multi-class example fills them', async () => {
    const oldDatabase = `${database}_before_classes`;
    const oldOptions = { ...options, database: oldDatabase };
    const before = await ClickHouseStore.open(oldOptions, MIGRATIONS.filter((m) => m.id < 10));
    try {
      const CLASS_COLUMNS = ['class_names', 'class_values', 'predicted_class', 'label_class', 'rejected_class', 'predicted_labels', 'labels', 'label_set'];
      const oldRow: Record<string, unknown> = { ...labelledExampleRow(SAMPLES.LabelledExample, 1) };
      for (const column of CLASS_COLUMNS) delete oldRow[column];
      await before.insert('labelled_examples', [oldRow]);
      // The new version opens the same database: only migration 10 runs, and it runs again harmlessly.
      const after = await ClickHouseStore.open(oldOptions);
      expect(await before.migrate(MIGRATIONS)).toEqual([]);
      await after.apply(MIGRATIONS.find((m) => m.id === 10)!);
      const multiclass: LabelledExample = {
        ...SAMPLES.LabelledExample, example_id: 'm-1#2', prediction_id: 'm-1', model: 'anomaly-type', label: 3.5, correction_of: 'm-1#1',
        class_scores: { spike: 0.7, drift: 0.2, outage: 0.1 }, predicted_class: 'spike', label_class: 'drift',
        replaces: { label: null, feedback_type: 'USER_REJECTED', source: 'u1', feedback_timestamp: SAMPLES.LabelledExample.feedback_timestamp, label_class: null, rejected_class: 'spike', labels: null },
      };
      const multilabel: LabelledExample = {
        ...SAMPLES.LabelledExample, example_id: 'l-1#1', prediction_id: 'l-1', model: 'pii', label: null,
        class_scores: { email: 0.9, phone: 0.2 }, predicted_labels: ['email'], labels: [],
      };
      await after.insert('labelled_examples', [labelledExampleRow(multiclass, 1), labelledExampleRow(multilabel, 1)]);
      const rows = await after.select<Record<string, unknown>>(
        `SELECT example_id, label, ${CLASS_COLUMNS.join(', ')} FROM labelled_examples FINAL ORDER BY example_id`,
      );
      expect(rows).toEqual([
        { example_id: 'l-1#1', label: null, class_names: ['email', 'phone'], class_values: [0.9, 0.2], predicted_class: '', label_class: '', rejected_class: '', predicted_labels: ['email'], labels: [], label_set: 1 },
        { example_id: 'm-1#2', label: 3.5, class_names: ['drift', 'outage', 'spike'], class_values: [0.2, 0.1, 0.7], predicted_class: 'spike', label_class: 'drift', rejected_class: '', predicted_labels: [], labels: [], label_set: 0 },
        // The row written before the migration reads with the columns' defaults.
        { example_id: 'p-1#1', label: 1, class_names: [], class_values: [], predicted_class: '', label_class: '', rejected_class: '', predicted_labels: [], labels: [], label_set: 0 },
      ]);
      await after.close();
    } finally {
      await before.command(`DROP DATABASE IF EXISTS ${oldDatabase}`).catch(() => {});
      await before.close();
    }
  });

  it('splits predictions 80/10/10, the same way every time', () => {
    const counts = { train: 0, validation: 0, test: 0 };
    for (let i = 0; i < 20_000; i++) counts[datasetSplit(`pred-${i}`)]++;
    expect(counts.train / 20_000).toBeCloseTo(0.8, 1);
    expect(counts.validation / 20_000).toBeCloseTo(0.1, 1);
    expect(counts.test / 20_000).toBeCloseTo(0.1, 1);
    expect(datasetSplit('pred-42')).toBe(datasetSplit('pred-42'));
  });

  it('a ClickHouse sink keeps retrying while the server is unreachable, heartbeating, until aborted', async () => {
    const unreachable = ClickHouseStore.connect({ ...options, url: 'http://127.0.0.1:1', requestTimeoutMs: 2_000 });
    const retries: number[] = [];
    let heartbeats = 0;
    const controller = new AbortController();
    const sink = new ClickHouseTableSink(unreachable, 'metric_points', {
      onRetry: (_error, attempt) => retries.push(attempt),
      heartbeat: async () => {
        heartbeats++;
      },
      heartbeatIntervalMs: 100,
      initialDelayMs: 100,
      maxDelayMs: 400,
      signal: controller.signal,
    });
    let settled = false;
    const write = sink.writeBatch([metricPointRow(point({ model: 'never-written' }), 1, 1)]).finally(() => (settled = true));
    write.catch(() => {}); // asserted below
    await sleep(1_500);
    expect(settled).toBe(false);
    expect(retries.length).toBeGreaterThanOrEqual(2);
    expect(heartbeats).toBeGreaterThanOrEqual(2);
    controller.abort();
    await expect(write).rejects.toThrow(/aborted/);
    await unreachable.close();
    const written = await store.select(`SELECT * FROM metric_points WHERE model = 'never-written'`);
    expect(written).toEqual([]);
  });
});
