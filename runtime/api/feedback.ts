/**
 * GET /v1/feedback and /v1/feedback/stats behind the routes, answered from
 * ClickHouse: the feedback that labelled a prediction is a row of
 * labelled_examples (feedback_type set: expired predictions and arrival
 * records have none), its statistics the rows of feedback_stats the
 * evaluator writes. Every value a client gives reaches the SQL through
 * bindParams (typed placeholders), never pasted in. Pages are keyset
 * pages over (feedback time, model, example id): a cursor says where the
 * last one ended, so a page is as cheap as the first and rows written
 * meanwhile are neither skipped nor repeated. The statistics end with what
 * the challengers have not learned yet (learning-backlog.ts), which also
 * asks Kafka where the learner stands.
 */
import { bindParams, type ClickHouseStore, type QueryParam } from '../../adapters/clickhouse/index.js';
import { invalid, unavailable } from '../../adapters/http/api/problem.js';
import type { FeedbackFilter, FeedbackItem, FeedbackPage, FeedbackService, FeedbackStatsAnswer } from '../../adapters/http/api/services.js';
import { errorMessage } from '../../core/errors.js';
import { DAY_MS } from '../../core/evaluate/feedback.js';
import { feedbackStats, type DayRow, type SourceRow, type TypeRow } from './feedback-stats.js';
import type { LearnerSource } from './learner-position.js';
import { backlogQueries, learningBacklog, type SnapshotRow } from './learning-backlog.js';

/** Days of by_day at most, and contributors listed. */
export const STATS_DAYS = 366;
export const TOP_CONTRIBUTORS = 10;

type Cursor = [number, string, string];

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

/** The cursor of a page's last row, or a 400 when the text is not one this API gave. */
export function decodeCursor(text: string): Cursor {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  const ok = Array.isArray(value) && value.length === 3 && Number.isSafeInteger(value[0]) && value[0] >= 0 && typeof value[1] === 'string' && typeof value[2] === 'string';
  if (!ok) throw invalid('cursor', 'querystring cursor is not a next_cursor this API gave');
  return value as Cursor;
}

/** The list query and its parameters: each filter adds a fixed condition with a placeholder. */
export function listQuery(filter: FeedbackFilter): { sql: string; params: Record<string, QueryParam> } {
  const params: Record<string, QueryParam> = { limit: filter.limit + 1 };
  const where = ["feedback_type != ''", 'isNotNull(feedback_ts_ms)'];
  const equal = (column: 'model' | 'prediction_id' | 'source' | 'feedback_type', value: string | undefined) => {
    if (value === undefined) return;
    params[column] = value;
    where.push(`${column} = {${column}:String}`);
  };
  equal('model', filter.model);
  equal('prediction_id', filter.prediction_id);
  equal('source', filter.source);
  equal('feedback_type', filter.feedback_type);
  if (filter.from !== undefined) {
    params.from = filter.from;
    where.push('feedback_ts_ms >= {from:UInt64}');
  }
  if (filter.to !== undefined) {
    params.to = filter.to;
    where.push('feedback_ts_ms < {to:UInt64}');
  }
  if (filter.cursor !== undefined) {
    [params.after_ts, params.after_model, params.after_id] = decodeCursor(filter.cursor);
    where.push('(feedback_ts_ms > {after_ts:UInt64} OR (feedback_ts_ms = {after_ts:UInt64} AND (model > {after_model:String} OR (model = {after_model:String} AND example_id > {after_id:String}))))');
  }
  const sql = `SELECT example_id, prediction_id, model, model_version, ts_ms, feedback_ts_ms, feedback_type, source, label, label_delay_ms, correction_of, score, threshold
FROM labelled_examples FINAL
WHERE ${where.join('\n  AND ')}
ORDER BY feedback_ts_ms, model, example_id
LIMIT {limit:UInt32}`;
  return { sql, params };
}

interface ExampleRow {
  example_id: string;
  prediction_id: string;
  model: string;
  model_version: string;
  ts_ms: string | number;
  feedback_ts_ms: string | number;
  feedback_type: string;
  source: string;
  label: number | null;
  label_delay_ms: string | number | null;
  correction_of: string;
  score: number;
  threshold: number;
}

function item(r: ExampleRow): FeedbackItem {
  const at = Number(r.feedback_ts_ms);
  return {
    example_id: r.example_id,
    prediction_id: r.prediction_id,
    model: r.model,
    model_version: r.model_version,
    feedback_type: r.feedback_type,
    source: r.source === '' ? null : r.source,
    label: r.label,
    feedback_timestamp: at,
    feedback_time: new Date(at).toISOString(),
    prediction_timestamp: Number(r.ts_ms),
    label_delay_ms: r.label_delay_ms === null ? null : Number(r.label_delay_ms),
    score: r.score,
    threshold: r.threshold,
    correction_of: r.correction_of === '' ? null : r.correction_of,
  };
}

/** feedback_stats of one model over [the day of `from`, `to`), the three groupings the figures need. */
export function statsQueries(model: string, range: { from?: number; to?: number }): { types: string; days: string; sources: string } {
  const params: Record<string, QueryParam> = { model };
  let where = 'model = {model:String}';
  if (range.from !== undefined) {
    params.from_day = Math.floor(range.from / DAY_MS) * DAY_MS;
    where += ' AND day_ms >= {from_day:UInt64}';
  }
  if (range.to !== undefined) {
    params.to = range.to;
    where += ' AND day_ms < {to:UInt64}';
  }
  const bind = (sql: string) => bindParams(sql, params);
  return {
    types: bind(`SELECT feedback_type, sum(labels) AS labels, sum(corrections) AS corrections, sum(overturned_by_expert) AS overturned_by_expert
FROM feedback_stats FINAL WHERE ${where} GROUP BY feedback_type ORDER BY feedback_type`),
    // Aliases are query-wide in ClickHouse: \`sum(labels) AS labels\` would turn the sumIf's \`labels\` into an aggregate of an aggregate.
    days: bind(`SELECT day_ms, sum(labels) AS day_labels, sum(corrections) AS day_corrections,
  sumIf(labels, feedback_type = 'USER_CONFIRMED') AS confirmed, sumIf(labels, feedback_type = 'USER_REJECTED') AS rejected
FROM feedback_stats FINAL WHERE ${where} GROUP BY day_ms ORDER BY day_ms DESC LIMIT ${STATS_DAYS}`),
    sources: bind(`SELECT source, sum(labels) AS labels, sum(corrections) AS corrections, sum(overturned) AS overturned, sum(overturned_by_expert) AS overturned_by_expert
FROM feedback_stats FINAL WHERE ${where} AND source != '' GROUP BY source ORDER BY labels DESC, source LIMIT ${TOP_CONTRIBUTORS}`),
  };
}

/** UInt64 columns come back as strings in JSON: every numeric column as a number. */
function numbers<T>(row: Record<string, unknown>, text: readonly string[]): T {
  const out: Record<string, unknown> = Object.create(null);
  for (const [key, value] of Object.entries(row)) out[key] = text.includes(key) ? value : Number(value);
  return { ...out } as T;
}

export class FeedbackQueries implements FeedbackService {
  constructor(private readonly store: ClickHouseStore, private readonly where: string, private readonly learner: LearnerSource) {}

  async list(filter: FeedbackFilter): Promise<FeedbackPage> {
    const { sql, params } = listQuery(filter);
    const rows = await this.select<ExampleRow>(bindParams(sql, params));
    const page = rows.slice(0, filter.limit).map(item);
    const last = page[page.length - 1];
    return { items: page, next_cursor: rows.length > filter.limit && last ? encodeCursor([last.feedback_timestamp, last.model, last.example_id]) : null };
  }

  async stats(model: string, range: { from?: number; to?: number }): Promise<FeedbackStatsAnswer> {
    const q = statsQueries(model, range);
    const [types, days, sources, backlog] = await Promise.all([
      this.select<Record<string, unknown>>(q.types),
      this.select<Record<string, unknown>>(q.days),
      this.select<Record<string, unknown>>(q.sources),
      this.backlog(model),
    ]);
    return feedbackStats(model, range, {
      types: types.map((r) => numbers<TypeRow>(r, ['feedback_type'])),
      days: days.map((r) => numbers<DayRow>({ day_ms: r.day_ms, labels: r.day_labels, corrections: r.day_corrections, confirmed: r.confirmed, rejected: r.rejected }, [])),
      sources: sources.map((r) => numbers<SourceRow>(r, ['source'])),
    }, backlog);
  }

  /** The learner's position first, then the rows past it: a commit in between only makes the count a little high. */
  private async backlog(model: string) {
    const position = await this.learner.position(model);
    const q = backlogQueries(model, position.offset ?? 0, this.learner.rules());
    const [counted, snapshots] = await Promise.all([
      position.problem === undefined ? this.select<{ examples: string | number }>(q.examples) : Promise.resolve(undefined),
      this.select<Record<string, unknown>>(q.snapshots),
    ]);
    return learningBacklog({
      position,
      examples: counted ? Number(counted[0]?.examples ?? 0) : null,
      configured: this.learner.challengers(model),
      snapshots: snapshots.map((r) => numbers<SnapshotRow>(r, ['challenger', 'latest_version'])),
    });
  }

  private async select<T>(sql: string): Promise<T[]> {
    try {
      return await this.store.select<T>(sql);
    } catch (error) {
      throw unavailable(`ClickHouse at ${this.where}: ${errorMessage(error)}`, 5);
    }
  }
}
