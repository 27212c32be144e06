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
import { mergedPointsQuery } from '../adapters/clickhouse/merged-view.js';

export interface MergedPanel {
  /** The dashboard file under dashboards/grafana/dashboards. */
  file: string;
  /** The panel's id in it. */
  id: number;
  /** The columns the panel shows, over the merged points. */
  select: string;
  /** The panel's filter, on the columns metric_partials and the view share (model, window, segment, window_start). */
  where: string;
  /** What follows the FROM: an outer WHERE on the derived columns (metric), GROUP BY, ORDER BY. */
  rest: string;
}

/**
 * The panel's rawSql: `select` over mergedPointsQuery(where), then `rest`. The `regression` form (binary and
 * regression windows' figures): the merged panels list binary models only, and it leaves out the class
 * windows' layers (their figures are not on a dashboard yet).
 */
export const panelSql = (p: MergedPanel) => `${p.select}\nFROM (\n${mergedPointsQuery(p.where, 'regression')}\n)\n${p.rest}`;

/** The same panel over the view, filtered after the view derived every window (what the panels read before): for comparisons. */
export const viewSql = (p: MergedPanel) => `${p.select}\nFROM metric_points_merged\nWHERE ${p.where}\n${p.rest.replace(/^WHERE /, 'AND ')}`;

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
    select: `SELECT segment, role, model_version, max(shards) AS shards,
  maxIf(value, metric = 'count') AS examples, maxIf(value, metric = 'precision') AS precision, maxIf(value, metric = 'recall') AS recall,
  maxIf(value, metric = 'f1') AS f1, maxIf(value, metric = 'auc_binned') AS auc_binned, maxIf(value, metric = 'auc_binned_error_bound') AS auc_bound,
  maxIf(value, metric = 'log_loss') AS log_loss, maxIf(value, metric = 'label_coverage') AS coverage`,
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
