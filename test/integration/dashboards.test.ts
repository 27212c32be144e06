/**
 * The Grafana dashboards (dashboards/grafana/dashboards) are known to work:
 * their structure holds (unique panel ids, every query on a provisioned data
 * source, the template variables), every Prometheus query names only metrics
 * and labels our code registers, and every ClickHouse query (panel targets,
 * template variables, annotations) returns rows on the real ClickHouse after
 * `feedbackloop replay` wrote a seeded stream to it: the macros expanded as
 * the ClickHouse plugin does (test/support/grafana.ts) for a range covering
 * the stream, for every value of every template variable. The panels of
 * estimated figures and pending labels, on hand-made points in a database of
 * their own (known values, whatever the replay wrote); the merged panels
 * (mergedPointsQuery filtered inside, as scripts/dashboards-merged.ts writes
 * them: the replay writes partials, one shard per model) against the view
 * and the metric_points panels of the same figures (the regression and class
 * dashboards' merged panels over two shards: dashboards-merged.test.ts);
 * each series, its trust and its value, the latest version of a point
 * (FINAL) only; label coverage by predictions where they are counted.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { championHistoryRow, ClickHouseStore, metricPointRow } from '../../adapters/clickhouse/index.js';
import type { ChartRow, MetricPoint } from '../../core/evaluate/index.js';
import { championHistory, manualDecision } from '../../runtime/manual-decisions.js';
import { createPipelineMetrics } from '../../adapters/prometheus/index.js';
import { commandReplay } from '../../cli/commands/replay.js';
import { type Feedback, type FeedbackType, noFeedbackClasses, noPredictionClasses, type Prediction } from '../../core/events.js';
import { uniqueName } from '../support/collect.js';
import { allPanels, dashboardQueries, expandMacros, promLabelNames, promMetricNames, type Dashboard } from '../support/grafana.js';
import { seededRandom } from '../support/random.js';
import { MERGED_PANELS, panelSql, viewSql } from '../../scripts/dashboards-merged.js';
import { requireStack, STACK } from '../support/stack.js';

const ROOT = join(import.meta.dirname, '..', '..');
const GRAFANA = join(ROOT, 'dashboards', 'grafana');
const FILES = ['feedbackloop-overview.json', 'feedbackloop-model.json', 'feedbackloop-regression.json', 'feedbackloop-multiclass.json'];
const CLASSES = ['spike', 'drift', 'outage'];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.UTC(2025, 2, 3);
const CHANGE = START + 2 * DAY;

const dashboards = FILES.map((file) => JSON.parse(readFileSync(join(GRAFANA, 'dashboards', file), 'utf8')) as Dashboard);
const provisioned = (parseYaml(readFileSync(join(GRAFANA, 'provisioning', 'datasources', 'datasources.yml'), 'utf8')) as { datasources: Array<{ uid: string; type: string }> }).datasources;
const CLICKHOUSE = 'grafana-clickhouse-datasource';

/**
 * Three days of two binary models and a regression model `eta` (r1, its
 * error doubling at the change; segment region): `churn` (version c7) and `fraud` (v1,
 * then v2 from day 1.5), segments region (3 values, the fairness attribute)
 * and plan (2), a feature `amount` and a categorical `channel`. From day 2
 * on the concept changes: the amounts, the channel's shares and the scores
 * shift (PSI/KS and categorical drift) and the labels stop following
 * the scores (the error detectors fire). Feedback of every type 1 minute to
 * 12 hours after the prediction; some users' labels are corrected by experts
 * later; some predictions are never labelled (they expire).
 */
function stream(seed: number): { predictions: Prediction[]; feedback: Feedback[] } {
  const random = seededRandom(seed);
  const among = <T>(values: Array<[T, number]>): T => {
    let r = random() * values.reduce((sum, [, w]) => sum + w, 0);
    for (const [value, w] of values) if ((r -= w) < 0) return value;
    return values[values.length - 1]![0];
  };
  const delay = (min: number, max: number) => Math.round(min * (max / min) ** random());
  const predictions: Prediction[] = [];
  const feedback: Feedback[] = [];
  const models = [
    { model: 'churn', n: 1500, version: () => 'c7' },
    { model: 'fraud', n: 2500, version: (t: number) => (t < START + 1.5 * DAY ? 'v1' : 'v2') },
  ];
  for (const { model, n, version } of models) {
    for (let i = 0; i < n; i++) {
      const timestamp = START + Math.floor(random() * 3 * DAY);
      const changed = timestamp >= CHANGE;
      const region = among([['eu', 5], ['us', 3], ['apac', 2]]);
      const score = Math.round(random() ** (changed ? 0.7 : region === 'apac' ? 1.4 : 1.8) * 1000) / 1000;
      const id = `${model}-${i}`;
      predictions.push({
        prediction_id: id, model, model_version: version(timestamp), timestamp,
        features: { amount: Math.round((random() * 100 + (changed ? 40 : 0)) * 100) / 100 },
        // A categorical channel (from its index: the random draws stay as they were), whose shares move at the change.
        categorical: { channel: ['web', 'app', 'pos'][changed ? (i % 5) % 3 : i % 3]! },
        segments: { region, plan: among([['free', 65], ['pro', 35]]) }, score, threshold: 0.5, shadow_scores: {},
        ...noPredictionClasses(),
      });
      const y = random() < (changed ? 0.6 - 0.4 * score : 0.05 + 0.85 * score) ? 1 : 0;
      const first = delay(60_000, 12 * HOUR);
      const say = (at: number, type: FeedbackType, label: number, source: string) =>
        feedback.push({ prediction_id: id, timestamp: timestamp + at, feedback_type: type, label, uncertain: false, source, notes: null, ...noFeedbackClasses() });
      const user = `user-${i % 6}`;
      switch (among([['none', 12], ['user', 45], ['auto', 20], ['expert', 10], ['corrected', 13]])) {
        case 'user':
          say(first, 'USER_CONFIRMED', y, user);
          break;
        case 'auto':
          say(first, 'AUTO_VALIDATED', y, 'reconciler');
          break;
        case 'expert':
          say(first, 'EXPERT_REVIEW', y, `analyst-${i % 3}`);
          break;
        case 'corrected': // a wrong user label, overturned by an expert later
          say(first, i % 2 === 0 ? 'USER_REJECTED' : 'USER_CONFIRMED', 1 - y, user);
          say(first + delay(60_000, 10 * HOUR), 'EXPERT_REVIEW', y, `analyst-${i % 3}`);
          break;
      }
    }
  }
  // A regression model (an ETA in minutes), its error doubling at the change; labels from users and experts.
  for (let i = 0; i < 1200; i++) {
    const timestamp = START + Math.floor(random() * 3 * DAY);
    const truth = Math.round((10 + random() * 50) * 10) / 10;
    const error = (random() - 0.5) * (timestamp >= CHANGE ? 16 : 8);
    const id = `eta-${i}`;
    predictions.push({
      prediction_id: id, model: 'eta', model_version: 'r1', timestamp, features: { distance: Math.round(truth * 0.8 * 100) / 100 }, categorical: {},
      segments: { region: among([['eu', 5], ['us', 3], ['apac', 2]]) }, score: Math.round((truth + error) * 10) / 10, threshold: 0, shadow_scores: {}, ...noPredictionClasses(),
    });
    if (random() < 0.9) feedback.push({ prediction_id: id, timestamp: timestamp + delay(60_000, 6 * HOUR), feedback_type: i % 4 === 0 ? 'EXPERT_REVIEW' : 'USER_CONFIRMED', label: truth, uncertain: false, source: `user-${i % 6}`, notes: null, ...noFeedbackClasses() });
  }
  // A multi-class model (an anomaly type with a numeric head, severity): reviewers confirm, correct the type
  // and severity, or reject without the right type; from the change a spike is a drift and the magnitudes shift.
  for (let i = 0; i < 900; i++) {
    const timestamp = START + Math.floor(random() * 3 * DAY);
    const seen = Math.floor(random() * 3);
    const raw = CLASSES.map((_, c) => random() + (c === seen ? 1.5 : 0));
    const sum = raw.reduce((a, b) => a + b, 0);
    const class_scores = Object.fromEntries(CLASSES.map((c, k) => [c, Math.round((raw[k]! / sum) * 1000) / 1000]));
    let truth = random() < 0.8 ? seen : Math.floor(random() * 3);
    if (timestamp >= CHANGE && truth === 0) truth = 1;
    const severity = Math.round(random() * 100) / 10;
    const id = `anomaly-${i}`;
    predictions.push({
      prediction_id: id, model: 'anomaly-type', model_version: 'a1', timestamp, features: { magnitude: Math.round(random() * 1000) / 10 + (timestamp >= CHANGE ? 40 : 0) }, categorical: {},
      segments: { region: among([['eu', 5], ['us', 3], ['apac', 2]]) }, score: severity, threshold: 0.5, shadow_scores: {}, ...noPredictionClasses(), class_scores,
    });
    const at = timestamp + delay(60_000, 6 * HOUR);
    const label = (type: FeedbackType, label_class: string | null, value: number | null, when: number) =>
      feedback.push({ prediction_id: id, timestamp: when, feedback_type: type, label: value, uncertain: false, source: `user-${i % 6}`, notes: null, ...noFeedbackClasses(), label_class });
    const kind = random();
    if (kind < 0.1) label('USER_REJECTED', null, null, at);
    else if (kind < 0.95) label('EXPERT_REVIEW', CLASSES[truth]!, Math.round((severity + random() - 0.5) * 10) / 10, at);
    if (kind > 0.85 && kind < 0.95) label('EXPERT_REVIEW', CLASSES[(truth + 1) % 3]!, severity, at + HOUR);
  }
  predictions.sort((a, b) => a.timestamp - b.timestamp);
  feedback.sort((a, b) => a.timestamp - b.timestamp);
  return { predictions, feedback };
}

describe('Grafana dashboards', () => {
  it('have unique panel ids, provisioned data sources, template variables and plugin-v4 ClickHouse targets', () => {
    const uids = new Map(provisioned.map((d) => [d.uid, d.type]));
    expect(new Set(dashboards.map((d) => d.uid)).size).toBe(dashboards.length);
    for (const dashboard of dashboards) {
      const panels = allPanels(dashboard);
      const ids = panels.map((p) => p.id);
      expect(new Set(ids).size, `${dashboard.title}: duplicate panel ids`).toBe(ids.length);
      for (const panel of panels) {
        const pos = panel.gridPos!;
        expect(pos.x + pos.w, `${dashboard.title} › ${panel.title}: wider than the grid`).toBeLessThanOrEqual(24);
        if (panel.type !== 'row') expect(panel.targets?.length, `${dashboard.title} › ${panel.title}: no query`).toBeGreaterThan(0);
      }
      const queries = dashboardQueries(dashboard);
      for (const variable of dashboard.templating.list) {
        if (variable.type === 'query') queries.push({ where: `${dashboard.title} › variable $${variable.name}`, datasource: variable.datasource, language: 'sql', text: variable.query!, target: {} });
      }
      for (const query of queries) {
        const ds = query.datasource;
        expect(ds && uids.get(ds.uid), `${query.where}: data source ${JSON.stringify(ds)} is not provisioned in datasources.yml`).toBe(ds?.type);
        expect(query.language, `${query.where}: ${ds?.type} with a ${query.language} query`).toBe(ds?.type === CLICKHOUSE ? 'sql' : 'promql');
        if (query.language !== 'sql' || query.where.includes('variable $')) continue;
        // What the plugin (v4) reads: the SQL editor, a query type and the sqlds format it maps to.
        const { editorType, queryType, format } = query.target;
        expect({ editorType, format }, query.where).toEqual({ editorType: 'sql', format: queryType === 'timeSeries' ? 0 : 1 });
        expect(query.text, `${query.where}: $__timeInterval expands to toStartOfInterval, which ClickHouse 18.16 lacks`).not.toContain('$__timeInterval');
        if (queryType === 'timeSeries') {
          // Long frames become one series per label only when sorted by time; and a time series follows the range.
          expect(query.text, `${query.where}: time series must be ORDER BY time`).toMatch(/ORDER BY time\b/);
          expect(query.text, `${query.where}: time series must filter on the range`).toMatch(/\$__(timeFilter\(|fromTime)/);
        }
      }
    }
    // The merged panels hold the query scripts/dashboards-merged.ts makes of mergedPointsQuery (the view's own).
    for (const merged of MERGED_PANELS) {
      const panel = allPanels(dashboards[FILES.indexOf(merged.file)]!).find((p) => p.id === merged.id);
      expect(panel?.targets?.[0]?.rawSql, `${merged.file} panel ${merged.id}: run npm run dashboards:merged`).toBe(panelSql(merged));
    }
    const variables = (i: number) => dashboards[i]!.templating.list.map((v) => v.name);
    expect(variables(0)).toEqual(['model']);
    expect(variables(1)).toEqual(['model', 'segment', 'window']);
    expect(variables(2)).toEqual(['model', 'segment', 'window']);
    expect(variables(3)).toEqual(['model', 'segment', 'window']);
  });

  it('the docker-compose grafana service installs the plugin and provisions these files', () => {
    const compose = parseYaml(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: { grafana: { environment: Record<string, string>; volumes: string[] } } };
    const providers = parseYaml(readFileSync(join(GRAFANA, 'provisioning', 'dashboards', 'dashboards.yml'), 'utf8')) as { providers: Array<{ options: { path: string } }> };
    const grafana = compose.services.grafana;
    expect(grafana.environment.GF_INSTALL_PLUGINS).toContain(CLICKHOUSE);
    expect(grafana.volumes).toContain('./dashboards/grafana/provisioning:/etc/grafana/provisioning:ro');
    expect(grafana.volumes).toContain(`./dashboards/grafana/dashboards:${providers.providers[0]!.options.path}:ro`);
  });

  it('every Prometheus query reads metrics and labels that feedbackloop registers', () => {
    const pipeline = createPipelineMetrics({ defaultMetrics: false });
    const labels = new Map<string, string[]>();
    for (const metric of pipeline.registry.getMetricsAsArray()) {
      const { name, labelNames } = metric as unknown as { name: string; labelNames: string[]; type: string };
      labels.set(name, labelNames);
      // Histogram series.
      if ((metric as unknown as { type: string }).type === 'histogram') {
        for (const suffix of ['_bucket', '_sum', '_count']) labels.set(name + suffix, suffix === '_bucket' ? [...labelNames, 'le'] : labelNames);
      }
    }
    const promQueries = dashboards.flatMap(dashboardQueries).filter((q) => q.language === 'promql');
    expect(promQueries.length).toBeGreaterThan(0);
    for (const query of promQueries) {
      const names = promMetricNames(query.text);
      expect(names.length, `${query.where}: reads no feedbackloop_ metric`).toBeGreaterThan(0);
      for (const name of names) expect(labels.has(name), `${query.where}: ${name} is not a metric feedbackloop registers (${[...labels.keys()].join(', ')})`).toBe(true);
      const known = new Set(names.flatMap((name) => labels.get(name) ?? []));
      for (const label of promLabelNames(query.text, query.target.legendFormat)) {
        expect(known.has(label), `${query.where}: label "${label}" is not a label of ${names.join(', ')}`).toBe(true);
      }
    }
  });

  describe('on ClickHouse, after a replay of a seeded stream', () => {
    const database = uniqueName('test_dashboards').replace(/-/g, '_');
    const dir = mkdtempSync(join(tmpdir(), 'dashboards-'));
    let store: ClickHouseStore;
    let decisions: Array<{ model: string }> = [];
    let historyRows = 0;
    let versionRows = 0;
    let snapshots = 0;

    beforeAll(async () => {
      await requireStack('clickhouse');
      const { predictions, feedback } = stream(20250303);
      const jsonl = (rows: unknown[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');
      writeFileSync(join(dir, 'predictions.jsonl'), jsonl(predictions));
      writeFileSync(join(dir, 'feedback.jsonl'), jsonl(feedback));
      // A 1-day join window, so unlabelled predictions expire within the stream; drift windows of
      // 300 values, so each model has a reference before the change and several windows after it.
      writeFileSync(
        join(dir, 'config.yaml'),
        [
          `clickhouse: { url: "${STACK.clickhouseUrl}", database: ${database} }`,
          'joiner: { join_window: 1d }',
          'evaluator: { windows: [1h, 1d], fairness_attributes: [region], drift_reference_size: 300, drift_window_size: 300, write_partials: true }',
          'models: { eta: { task: regression }, anomaly-type: { task: multiclass, classes: [spike, drift, outage], numeric_target: severity } }',
          '',
        ].join('\n'),
      );
      await commandReplay({ predictions: join(dir, 'predictions.jsonl'), feedback: join(dir, 'feedback.jsonl'), out: join(dir, 'out'), config: join(dir, 'config.yaml') });
      store = await ClickHouseStore.open({ url: STACK.clickhouseUrl, database, username: 'default', password: '', requestTimeoutMs: 30_000 });
      // The replay wrote its decisions to champion_history. A model it took none for gets a manual
      // PIN, as `feedbackloop pin` publishes it, so the promotions annotation has a row per model.
      decisions = readFileSync(join(dir, 'out', 'promotions.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { model: string });
      const count = async (table: string) => Number((await store.select<{ n: string }>(`SELECT count() AS n FROM ${table} FINAL`))[0]!.n);
      historyRows = await count('champion_history');
      versionRows = await count('model_versions');
      snapshots = readFileSync(join(dir, 'out', 'snapshots.jsonl'), 'utf8').split('\n').filter(Boolean).length;
      const pins = ['churn', 'fraud', 'anomaly-type']
        .filter((model) => !decisions.some((d) => d.model === model))
        .map((model) => championHistoryRow(manualDecision('PIN', { model, reason: 'dashboard test', actor: 'test' }, championHistory([]), START + DAY)));
      if (pins.length > 0) await store.insert('champion_history', pins);
    });

    afterAll(async () => {
      await store?.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
      await store?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('the replay wrote the registry tables: every snapshot to model_versions, every decision to champion_history', () => {
      expect(snapshots).toBeGreaterThan(0);
      expect(versionRows).toBe(snapshots);
      expect(historyRows).toBe(decisions.length);
    });

    it('the replay wrote the chart rows to evaluation_charts, as charts.jsonl has them (curves at most 101 points)', async () => {
      const files = readFileSync(join(dir, 'out', 'charts.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as ChartRow);
      const rows = await store.select<{ model: string; role: string; model_version: string; chart: string; subject: string; point_labels: string[]; series_names: string[]; series_values: number[]; n: number }>(
        'SELECT model, role, model_version, chart, subject, point_labels, series_names, series_values, n FROM evaluation_charts FINAL ORDER BY model, chart, subject, role, model_version',
      );
      const key = (c: { model: string; role: string; model_version: string; chart: string; subject: string }) => [c.model, c.role, c.model_version, c.chart, c.subject].join(' ');
      expect(rows.map(key).sort()).toEqual(files.map(key).sort());
      for (const row of rows) {
        const file = files.find((c) => key(c) === key(row))!;
        expect({ labels: row.point_labels, series: row.series_names, values: row.series_values.map(Number), n: Number(row.n) }).toEqual({ labels: file.labels, series: file.series, values: file.values, n: file.n });
      }
      const curves = rows.filter((r) => r.chart === 'score_curve');
      expect(curves.map((r) => `${r.model} ${r.role}`).sort()).toEqual(['churn champion', 'churn challenger', 'fraud champion', 'fraud champion', 'fraud challenger'].sort());
      for (const c of curves) expect(c.series_values.length / 3).toBeLessThanOrEqual(101);
      // The regression model has no curve; its input feature has its histogram.
      expect(rows.filter((r) => r.model === 'eta').map((r) => `${r.chart} ${r.subject}`)).toEqual(['numeric_histogram distance']);
    });

    it("the replay evaluated the multi-class model: its figures, per-class figures, numeric head and total confusion matrix in metrics.jsonl and ClickHouse", async () => {
      const all = readFileSync(join(dir, 'out', 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as MetricPoint)
        .filter((p) => p.model === 'anomaly-type' && p.segment === '*' && p.window === 'total');
      // The learner's softmax challenger, scored by the joiner into <key>#<i> shadow scores, is evaluated too.
      expect(all.filter((p) => p.metric === 'macro_f1').map((p) => `${p.role} ${p.model_version}`).sort()).toEqual(['challenger anomaly-type/softmax', 'champion a1']);
      const points = all.filter((p) => p.role === 'champion');
      const at = new Map(points.map((p) => [p.metric, p.value]));
      expect(at.get('count')).toBeGreaterThan(700);
      for (const name of ['accuracy', 'macro_f1', 'micro_f1', 'weighted_f1', 'log_loss', 'brier', 'top_k_accuracy', 'cohen_kappa', 'rejected', 'severity_mae', 'f1[spike]', 'support[outage]']) {
        expect(typeof at.get(name), name).toBe('number');
      }
      const confusion = points.filter((p) => p.metric.startsWith('confusion['));
      expect(confusion).toHaveLength(9);
      // The matrix holds every example whose true class is known.
      expect(confusion.reduce((s, p) => s + p.value!, 0)).toBe(at.get('count')! - at.get('rejected')!);
      const rows = await store.select<{ metric: string; value: number }>(
        "SELECT metric, value FROM metric_points FINAL WHERE model = 'anomaly-type' AND role = 'champion' AND segment = '*' AND window = 'total' AND metric IN ('accuracy', 'macro_f1') ORDER BY metric",
      );
      expect(rows.map((r) => [r.metric, Number(r.value)])).toEqual([['accuracy', at.get('accuracy')], ['macro_f1', at.get('macro_f1')]]);
    });

    // The replay ran with evaluator.write_partials: each binary model's one shard wrote partials, so the
    // merged panels (metric_points_merged) show its figures, which are then metric_points' own.
    it("the merged panels read the shards' partials: for a model of one shard, metric_points' figures, with the shard count", async () => {
      const model = dashboards.find((d) => d.uid === 'feedbackloop-model')!;
      const sqlOf = (title: string) => dashboardQueries(model).find((q) => q.language === 'sql' && q.where.endsWith(`"${title}"`))!.text;
      const range = { from: START - DAY, to: START + 5 * DAY };
      type Row = { segment: string; role: string; model_version: string; examples: number; precision: number | null; recall: number | null; shards?: string | number };
      for (const name of ['churn', 'fraud']) {
        const read = (title: string) => store.select<Row>(expandMacros(sqlOf(title), { ...range, vars: { model: name } }));
        const merged = await read('Merged, whole history (window total): shards summed');
        const points = await read('Every segment, whole history (window total)');
        const key = (r: Row) => [r.segment, r.role, r.model_version].join(' ');
        expect(merged.map(key), name).toEqual(points.map(key));
        expect(merged.length, name).toBeGreaterThan(3);
        for (const r of merged) {
          const p = points.find((x) => key(x) === key(r))!;
          expect([Number(r.shards), r.examples, r.precision, r.recall], `${name} ${key(r)}`).toEqual([1, p.examples, p.precision, p.recall]);
        }
      }
    });

    // The merged panels filter metric_partials inside mergedPointsQuery (scripts/dashboards-merged.ts): the rows
    // the view gives, which derives every window before the filter; for each value of the variables a panel uses.
    it('the merged panels filter inside the query: the rows the view metric_points_merged gives', async () => {
      const range = { from: START - DAY, to: START + 5 * DAY };
      const models: Record<string, string[]> = { 'feedbackloop-regression.json': ['eta'], 'feedbackloop-multiclass.json': ['anomaly-type'] };
      let compared = 0;
      for (const panel of MERGED_PANELS) {
        const values: Record<string, string[]> = { model: models[panel.file] ?? ['churn', 'fraud'], window: ['1h', '1d'], segment: ['*', 'region=eu'] };
        let assignments: Array<Record<string, string>> = [{}];
        for (const [name, options] of Object.entries(values)) {
          if (panel.where.includes(`\${${name}}`)) assignments = assignments.flatMap((vars) => options.map((v) => ({ ...vars, [name]: v })));
        }
        for (const vars of assignments) {
          const read = (sql: string) => store.select<Record<string, unknown>>(expandMacros(sql, { ...range, vars }));
          const filtered = await read(panelSql(panel));
          expect(filtered.length, `${panel.file} panel ${panel.id} ${JSON.stringify(vars)}`).toBeGreaterThan(0);
          expect(filtered, `${panel.file} panel ${panel.id} ${JSON.stringify(vars)}`).toEqual(await read(viewSql(panel)));
          compared++;
        }
      }
      // The model dashboard's 8 + 2, the overview's 2; the regression dashboard's 4 + 4 + 1; the class dashboard's 4 + 4 + 2 + 2 + 1.
      expect(compared).toBe(8 + 2 + 2 + 9 + 13);
    });

    it('every query of every panel, variable and annotation returns rows, for every variable value', async () => {
      const range = { from: START - DAY, to: START + 5 * DAY };
      const failures: string[] = [];
      let ran = 0;
      const run = async (where: string, sql: string, vars: Record<string, string>, within = range): Promise<Array<Record<string, unknown>>> => {
        const label = `${where} [${Object.entries(vars).map(([k, v]) => `${k}=${v}`).join(', ')}]`;
        try {
          const rows = await store.select<Record<string, unknown>>(expandMacros(sql, { ...within, vars }));
          ran++;
          if (within === range && rows.length === 0) failures.push(`${label}: no rows`);
          if (within !== range && rows.length > 0) failures.push(`${label}: ${rows.length} rows for a range before the stream (time filter not applied?)`);
          return rows;
        } catch (error) {
          failures.push(`${label}: ${(error as Error).message} ${String((error as { cause?: unknown }).cause ?? '')}`);
          return [];
        }
      };
      for (const dashboard of dashboards) {
        // Chained variables, as Grafana resolves them: each query sees the values chosen before it.
        let assignments: Array<Record<string, string>> = [{}];
        for (const variable of dashboard.templating.list) {
          const next: Array<Record<string, string>> = [];
          for (const vars of assignments) {
            const rows = await run(`${dashboard.title} › variable $${variable.name}`, variable.query!, vars);
            for (const row of rows) next.push({ ...vars, [variable.name]: String(Object.values(row)[0]) });
          }
          assignments = next;
        }
        expect(assignments.length, `${dashboard.title}: no combination of variable values`).toBeGreaterThan(0);
        const sqlQueries = dashboardQueries(dashboard).filter((q) => q.language === 'sql');
        for (const vars of assignments) for (const query of sqlQueries) await run(query.where, query.text, vars);
        // And the range applies: a day before the stream shows nothing where a time macro is used.
        const before = { from: START - 10 * DAY, to: START - 9 * DAY };
        for (const query of sqlQueries) if (query.text.includes('$__')) await run(`${query.where} (range before the stream)`, query.text, assignments[0]!, before);
      }
      console.log(`dashboards: ${ran} ClickHouse queries run, ${failures.length} failed`);
      expect(failures).toEqual([]);
    });

    it('the estimate, pending-label and coverage panels read the new figures: estimate dashed by name, untrusted windows marked, FINAL values', async () => {
      const estimates = await ClickHouseStore.open({ url: STACK.clickhouseUrl, database: `${database}_estimates`, username: 'default', password: '', requestTimeoutMs: 30_000 });
      try {
        // Three hours of champion v1: the estimate untrusted in the first; labels still arriving in the last two.
        const hourly: Record<string, number[]> = {
          f1: [0.7, 0.7, 0.7], estimated_f1: [0.6, 0.62, 0.64], accuracy: [0.9, 0.9, 0.9], estimated_accuracy: [0.85, 0.86, 0.87], estimate_trusted: [0, 1, 1],
          predictions: [100, 100, 100], labelled: [90, 60, 20], expired: [10, 0, 0], pending: [0, 40, 80],
        };
        const point = (model: string, window: string, h: number, metric: string, value: number): MetricPoint => ({
          model, model_version: 'v1', role: 'champion', segment: '*', window, window_start: START + h * (window === '1d' ? DAY : HOUR),
          window_end: START + (h + 1) * (window === '1d' ? DAY : HOUR), metric, value, count: 100,
        });
        const points = Object.entries(hourly).flatMap(([metric, values]) => values.map((v, h) => point('scored', '1h', h, metric, v)));
        // The day: 170 labelled of 300 predictions (label_coverage, of the closed ones, says 170 / 180); a model without arrivals keeps label_coverage.
        points.push(point('scored', '1d', 0, 'predictions', 300), point('scored', '1d', 0, 'labelled', 170), point('scored', '1d', 0, 'label_coverage', 170 / 180));
        points.push(point('legacy', '1d', 0, 'labelled', 90), point('legacy', '1d', 0, 'label_coverage', 0.9));
        // An older version of a point, replaced by the one above (version 2).
        await estimates.insert('metric_points', [metricPointRow(point('scored', '1h', 1, 'estimated_f1', 0.3), 1, START)]);
        await estimates.insert('metric_points', points.map((p) => metricPointRow(p, 2, START)));

        const query = (file: string, title: string) => dashboardQueries(dashboards[FILES.indexOf(file)]!).find((q) => q.where.endsWith(`panel "${title}"`))!.text;
        const range = { from: START - DAY, to: START + 2 * DAY };
        const run = async (sql: string, vars: Record<string, string>) =>
          (await estimates.select<Record<string, unknown>>(expandMacros(sql, { ...range, vars }))).map((row) => Object.values(row).map((v) => (typeof v === 'number' ? Math.round(v * 1e6) / 1e6 : v)));
        const at = (h: number) => new Date(START + h * HOUR).toISOString().replace('T', ' ').slice(0, 19);
        const vars = { model: 'scored', window: '1h', segment: '*' };

        expect(await run(query('feedbackloop-model.json', 'Estimated vs realised F1 and accuracy in segment $segment (champion)'), vars)).toEqual([
          [at(0), 'accuracy v1', 0.9], [at(0), 'estimated_accuracy v1 (untrusted)', 0.85], [at(0), 'estimated_f1 v1 (untrusted)', 0.6], [at(0), 'f1 v1', 0.7],
          [at(1), 'accuracy v1', 0.9], [at(1), 'estimated_accuracy v1', 0.86], [at(1), 'estimated_f1 v1', 0.62], [at(1), 'f1 v1', 0.7],
          [at(2), 'accuracy v1', 0.9], [at(2), 'estimated_accuracy v1', 0.87], [at(2), 'estimated_f1 v1', 0.64], [at(2), 'f1 v1', 0.7],
        ]);
        // Drawn by name: the estimated series dashed, the untrusted ones grey too, the realised ones solid (no override).
        const panel = allPanels(dashboards[FILES.indexOf('feedbackloop-model.json')]!).find((p) => p.title === 'Estimated vs realised F1 and accuracy in segment $segment (champion)') as unknown as {
          fieldConfig: { overrides: Array<{ matcher: { id: string; options: string }; properties: Array<{ id: string; value: unknown }> }> };
        };
        const drawn = (series: string) => {
          const props = new Map<string, unknown>();
          for (const o of panel.fieldConfig.overrides) if (o.matcher.id === 'byRegexp' && new RegExp(o.matcher.options).test(series)) for (const p of o.properties) props.set(p.id, p.value);
          return { dashed: (props.get('custom.lineStyle') as { fill?: string } | undefined)?.fill === 'dash', grey: props.has('color') };
        };
        expect(['f1 v1', 'accuracy v1', 'estimated_f1 v1', 'estimated_accuracy v1', 'estimated_f1 v1 (untrusted)'].map(drawn)).toEqual([
          { dashed: false, grey: false }, { dashed: false, grey: false }, { dashed: true, grey: false }, { dashed: true, grey: false }, { dashed: true, grey: true },
        ]);
        const pending = await run(query('feedbackloop-model.json', 'Pending labels in segment $segment (champion)'), vars);
        expect(pending.filter((r) => r[1] === 'pending v1')).toEqual([[at(0), 'pending v1', 0], [at(1), 'pending v1', 40], [at(2), 'pending v1', 80]]);
        expect(pending.filter((r) => r[0] === at(2))).toEqual([[at(2), 'expired v1', 0], [at(2), 'labelled v1', 20], [at(2), 'pending v1', 80], [at(2), 'predictions v1', 100]]);
        const coverage = query('feedbackloop-overview.json', 'Label coverage per day');
        expect(await run(coverage, { model: 'scored' })).toEqual([[at(0), 'coverage v1', Math.round((170 / 300) * 1e6) / 1e6]]);
        expect(await run(coverage, { model: 'legacy' })).toEqual([[at(0), 'coverage v1', 0.9]]);
      } finally {
        await estimates.command(`DROP DATABASE IF EXISTS ${database}_estimates`).catch(() => {});
        await estimates.close();
      }
    });
  });
});
