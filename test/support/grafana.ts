/**
 * Grafana dashboards as the tests see them: every query a dashboard holds
 * (panel targets, template variables, annotations), and what the official
 * ClickHouse data source (grafana-clickhouse-datasource v4) does to a
 * query's SQL before ClickHouse gets it, so that a test can run a panel's
 * query against the real server.
 *
 * expandMacros follows the plugin's pkg/macros/macros.go for the macros our
 * dashboards use, and Grafana's template service for single-value variables:
 *   $__timeFilter(col)  ->  col >= toDateTime(<from s>) AND col <= toDateTime(<to s>)
 *   $__fromTime         ->  toDateTime(<from s>)
 *   $__toTime           ->  toDateTime(<to s>)
 *   ${name}, $name, [[name]]  ->  the variable's value, as is (the SQL quotes it)
 * (<from s> / <to s>: the range's ends in whole epoch seconds, as Go's
 * time.Unix()). Any other macro throws: $__timeInterval expands to
 * toStartOfInterval, which ClickHouse 18.16 lacks, and the others are not
 * reproduced here. Table names stay unqualified: the plugin runs them in the
 * data source's defaultDatabase (the test runs them in its own database).
 */

export interface Datasource {
  type: string;
  uid: string;
}

interface Target {
  refId?: string;
  datasource?: Datasource;
  rawSql?: string;
  expr?: string;
  legendFormat?: string;
  queryType?: string;
  format?: number;
  editorType?: string;
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: Datasource;
  gridPos?: { h: number; w: number; x: number; y: number };
  targets?: Target[];
  panels?: Panel[];
}

export interface Variable {
  name: string;
  type: string;
  datasource?: Datasource;
  query?: string;
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
  annotations: { list: Array<{ name: string; builtIn?: number; datasource?: Datasource; target?: Target }> };
}

/** One query of a dashboard, named for failure messages. */
export interface DashboardQuery {
  /** "dashboard › panel title" (or "variable $x", "annotation ..."). */
  where: string;
  datasource: Datasource | undefined;
  /** ClickHouse SQL (rawSql) or PromQL (expr). */
  language: 'sql' | 'promql';
  text: string;
  target: Target;
}

/** Every panel, rows' nested panels included. */
export function allPanels(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

/** Every query of a panel target or an annotation (template variables: see `dashboard.templating`). */
export function dashboardQueries(dashboard: Dashboard): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  const add = (where: string, fallback: Datasource | undefined, target: Target) => {
    const datasource = target.datasource ?? fallback;
    if (target.rawSql !== undefined) out.push({ where, datasource, language: 'sql', text: target.rawSql, target });
    else if (target.expr !== undefined) out.push({ where, datasource, language: 'promql', text: target.expr, target });
    else throw new Error(`${where}: target ${target.refId ?? '?'} has neither rawSql nor expr`);
  };
  for (const panel of allPanels(dashboard)) {
    for (const target of panel.targets ?? []) add(`${dashboard.title} › panel "${panel.title}"`, panel.datasource, target);
  }
  for (const annotation of dashboard.annotations.list) {
    if (annotation.target) add(`${dashboard.title} › annotation "${annotation.name}"`, annotation.datasource, annotation.target);
  }
  return out;
}

export interface MacroContext {
  /** The dashboard's time range, epoch milliseconds. */
  from: number;
  to: number;
  /** Template variables by name (single values). */
  vars: Record<string, string>;
}

const toDateTime = (ms: number) => `toDateTime(${Math.floor(ms / 1000)})`;

/** The SQL the plugin sends to ClickHouse for `sql` (see the module comment). */
export function expandMacros(sql: string, context: MacroContext): string {
  const variable = (name: string) => {
    const value = context.vars[name];
    if (value === undefined) throw new Error(`unknown template variable $${name} in: ${sql}`);
    return value;
  };
  const withVariables = sql
    .replace(/\$\{(\w+)\}/g, (_, name: string) => variable(name))
    .replace(/\[\[(\w+)\]\]/g, (_, name: string) => variable(name))
    .replace(/\$(?!__)(\w+)/g, (_, name: string) => variable(name));
  const expanded = withVariables
    .replace(/\$__timeFilter\(\s*([^()]+?)\s*\)/g, (_, column: string) => `${column} >= ${toDateTime(context.from)} AND ${column} <= ${toDateTime(context.to)}`)
    .replace(/\$__fromTime\b/g, toDateTime(context.from))
    .replace(/\$__toTime\b/g, toDateTime(context.to));
  const left = /\$__\w+/.exec(expanded);
  if (left) throw new Error(`macro ${left[0]} is not supported (ClickHouse 18.16 cannot run every expansion; see test/support/grafana.ts) in: ${sql}`);
  return expanded;
}

/** Metric names a PromQL expression reads (ours only: feedbackloop_*). */
export function promMetricNames(expr: string): string[] {
  return [...new Set(expr.match(/\bfeedbackloop_[a-zA-Z0-9_]+/g) ?? [])];
}

/** Label names a PromQL expression or legend uses: matchers, by/without lists and {{label}} in the legend. */
export function promLabelNames(expr: string, legendFormat = ''): string[] {
  const labels = new Set<string>();
  for (const [, selector] of expr.matchAll(/\{([^}]*)\}/g)) {
    for (const [, name] of selector!.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)) labels.add(name!);
  }
  for (const [, list] of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) {
    for (const name of list!.split(',')) if (name.trim()) labels.add(name.trim());
  }
  for (const [, name] of legendFormat.matchAll(/\{\{\s*(\w+)\s*\}\}/g)) labels.add(name!);
  return [...labels];
}
