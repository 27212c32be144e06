/**
 * The dashboards' panels of sharded models' merged figures: their SQL made
 * from mergedPointsQuery(where) (adapters/clickhouse/merged-view.ts), the
 * panel's filter on metric_partials inside it (Grafana's variables and time
 * macro included), not on the view metric_points_merged, which ClickHouse
 * 18.16 derives for every window of every model before filtering.
 *
 * `npm run dashboards:merged` writes these into the dashboard JSON files;
 * test/integration/dashboards.test.ts checks the files hold them (a change
 * of the view's query shows there) and runs them on ClickHouse.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { mergedPointsQuery, type MergedForm } from '../adapters/clickhouse/merged-view.js';

export interface MergedPanel {
  /** The dashboard file under dashboards/grafana/dashboards. */
  file: string;
  /** The panel's id in it. */
  id: number;
  /** The columns the panel shows, over the merged points. */
  select: string;
  /** The panel's filter, on the columns metric_partials and the view share (model, window, segment, window_start). */
  where: string;
  /** What follows the FROM: an outer WHERE on the derived columns (metric; one term, or parenthesised: viewSql appends it with AND), GROUP BY, ORDER BY. */
  rest: string;
  /** The query's form: `all` (with the class layers) for the class dashboard; else `regression` (binary and regression windows). */
  form?: Extract<MergedForm, 'all'>;
}

/**
 * The panel's rawSql: `select` over mergedPointsQuery(where), then `rest`. The binary and regression
 * dashboards' panels read the `regression` form (binary and regression windows' figures), without the class
 * windows' layers they would not show; the class dashboard's the `all` form.
 */
export const panelSql = (p: MergedPanel) => `${p.select}\nFROM (\n${mergedPointsQuery(p.where, p.form ?? 'regression')}\n)\n${p.rest}`;

/** The same panel over the view, filtered after the view derived every window (what the panels read before): for comparisons. */
export const viewSql = (p: MergedPanel) => `${p.select}\nFROM metric_points_merged\nWHERE ${p.where}\n${p.rest.replace(/^WHERE /, 'AND ')}`;

/** A panel's filter: one window of one segment of the model, in the time range. */
const IN_WINDOW = "model = '${model}' AND window = '${window}' AND segment = '${segment}'";
/** A table's filter: the whole history (window total) of every segment but the fairness roll-ups. */
const TOTAL = "model = '${model}' AND window = 'total' AND segment NOT LIKE '%=*'";
const IN_RANGE = 'AND $__timeFilter(window_start)';
const BY_TIME = 'ORDER BY time, series';
const PER_ROLE = "SELECT window_start AS time, concat(metric, ' ', role, ' ', model_version) AS series, value";
const BY_GROUP = 'GROUP BY segment, role, model_version\nORDER BY segment, role, model_version';
/**
 * A table's cell: the value of the group's figure `condition` picks, NULL where it has none or a null one
 * (18.16's maxIf gives 0 there, over a Nullable column too, and has no -OrNull combinator).
 */
const figure = (condition: string) => `if(countIf(${condition} AND isNotNull(value)) = 0, NULL, maxIf(value, ${condition}))`;
/** A table's columns `<name>`, one row per group: the group's figure `<metric>`. */
const columns = (figures: Array<[name: string, metric: string]>) => figures.map(([name, metric]) => `${figure(`metric = '${metric}'`)} AS ${name}`).join(',\n  ');

export const MERGED_PANELS: readonly MergedPanel[] = [
  {
    file: 'feedbackloop-model.json',
    id: 25,
    select: "SELECT window_start AS time, concat(metric, ' ', role, ' ', model_version) AS series, value",
    where: "model = '${model}' AND window = '${window}' AND segment = '${segment}' AND $__timeFilter(window_start)",
    rest: "WHERE metric IN ('precision', 'recall', 'f1', 'auc_binned', 'accuracy')\nORDER BY time, series",
  },
  {
    file: 'feedbackloop-model.json',
    id: 26,
    select: `SELECT segment, role, model_version, max(shards) AS shards,\n  ${columns([
      ['examples', 'count'], ['precision', 'precision'], ['recall', 'recall'], ['f1', 'f1'], ['auc_binned', 'auc_binned'], ['auc_bound', 'auc_binned_error_bound'],
      ['log_loss', 'log_loss'], ['coverage', 'label_coverage'],
    ])}`,
    where: "model = '${model}' AND window = 'total' AND segment NOT LIKE '%=*'",
    rest: 'GROUP BY segment, role, model_version\nORDER BY segment, role, model_version',
  },
  {
    file: 'feedbackloop-overview.json',
    id: 24,
    select: "SELECT window_start AS time, concat(metric, ' ', role, ' ', model_version, ' (', toString(shards), ' shards)') AS series, value",
    where: "model = '${model}' AND window = '1h' AND segment = '*' AND $__timeFilter(window_start)",
    rest: "WHERE metric IN ('precision', 'recall', 'f1', 'auc_binned')\nORDER BY time, series",
  },
  { file: 'feedbackloop-regression.json', id: 8, select: PER_ROLE, where: `${IN_WINDOW} ${IN_RANGE}`, rest: `WHERE metric IN ('mae', 'rmse')\n${BY_TIME}` },
  {
    file: 'feedbackloop-regression.json',
    id: 9,
    select: "SELECT window_start AS time, concat('r2 ', role, ' ', model_version) AS series, value",
    where: `${IN_WINDOW} ${IN_RANGE}`,
    rest: `WHERE metric = 'r2'\n${BY_TIME}`,
  },
  {
    file: 'feedbackloop-regression.json',
    id: 10,
    select: `SELECT segment, role, model_version, max(shards) AS shards,\n  ${columns([['examples', 'count'], ['mae', 'mae'], ['rmse', 'rmse'], ['r2', 'r2'], ['mape', 'mape'], ['coverage', 'label_coverage']])}`,
    where: TOTAL,
    rest: BY_GROUP,
  },
  { file: 'feedbackloop-multiclass.json', id: 10, form: 'all', select: PER_ROLE, where: `${IN_WINDOW} ${IN_RANGE}`, rest: `WHERE metric IN ('accuracy', 'subset_accuracy', 'macro_f1', 'micro_f1')\n${BY_TIME}` },
  {
    file: 'feedbackloop-multiclass.json',
    id: 11,
    form: 'all',
    select: "SELECT window_start AS time, concat(metric, ' ', model_version) AS series, value",
    where: `${IN_WINDOW} AND role = 'champion' ${IN_RANGE}`,
    rest: `WHERE startsWith(metric, 'f1[')\n${BY_TIME}`,
  },
  {
    file: 'feedbackloop-multiclass.json',
    id: 12,
    form: 'all',
    select: `SELECT model_version, splitByChar('|', substring(metric, 11, length(metric) - 11))[1] AS true_class,
  splitByChar('|', substring(metric, 11, length(metric) - 11))[2] AS predicted_class, value AS examples`,
    where: "model = '${model}' AND window = 'total' AND segment = '${segment}' AND role = 'champion'",
    rest: "WHERE startsWith(metric, 'confusion[')\nORDER BY model_version, true_class, predicted_class",
  },
  {
    file: 'feedbackloop-multiclass.json',
    id: 13,
    form: 'all',
    select: `SELECT model_version, substring(metric, position(metric, '[') + 1, length(metric) - position(metric, '[') - 1) AS class_name,
  ${['precision', 'recall', 'f1', 'support'].map((name) => `${figure(`startsWith(metric, '${name}[')`)} AS ${name}`).join(',\n  ')}`,
    where: "model = '${model}' AND window = 'total' AND segment = '${segment}' AND role = 'champion'",
    rest: "WHERE (startsWith(metric, 'precision[') OR startsWith(metric, 'recall[') OR startsWith(metric, 'f1[') OR startsWith(metric, 'support['))\nGROUP BY model_version, class_name\nORDER BY model_version, class_name",
  },
  {
    file: 'feedbackloop-multiclass.json',
    id: 14,
    form: 'all',
    select: `SELECT segment, role, model_version, max(shards) AS shards,\n  ${columns([['examples', 'count'], ['accuracy', 'accuracy'], ['macro_f1', 'macro_f1'], ['micro_f1', 'micro_f1'], ['weighted_f1', 'weighted_f1'], ['log_loss', 'log_loss'], ['cohen_kappa', 'cohen_kappa'], ['rejected', 'rejected'], ['coverage', 'label_coverage']])}`,
    where: TOTAL,
    rest: BY_GROUP,
  },
];

export const DASHBOARDS_DIR = join(import.meta.dirname, '..', 'dashboards', 'grafana', 'dashboards');

interface PanelJson {
  id: number;
  targets?: Array<{ rawSql?: string }>;
  panels?: PanelJson[];
}

/** Sets each merged panel's rawSql in its file (written as the files are: 2-space JSON and a newline). */
function writePanels(): void {
  for (const file of new Set(MERGED_PANELS.map((p) => p.file))) {
    const path = join(DASHBOARDS_DIR, file);
    const dashboard = JSON.parse(readFileSync(path, 'utf8')) as { panels: PanelJson[] };
    for (const merged of MERGED_PANELS.filter((p) => p.file === file)) {
      const panel = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).find((p) => p.id === merged.id);
      if (!panel?.targets?.[0]) throw new Error(`${file}: no panel ${merged.id} with a target`);
      panel.targets[0].rawSql = panelSql(merged);
    }
    writeFileSync(path, `${JSON.stringify(dashboard, null, 2)}\n`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) writePanels();
