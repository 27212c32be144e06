/**
 * GET /v1/feedback (the feedback that labelled predictions, filtered, a page
 * at a time) and GET /v1/feedback/stats (per model: totals, confirmed vs
 * rejected, user labels experts overturned, by day, top contributors, what
 * each challenger has not learned yet), both read from ClickHouse; 503
 * without it.
 */
import type { FastifyInstance } from 'fastify';
import { FEEDBACK_TYPES } from '../../../core/events.js';
import { invalid, unavailable } from './problem.js';
import type { ApiServices, FeedbackFilter, FeedbackService } from './services.js';
import { PROBLEMS, SECURITY, UNAVAILABLE } from './common-schemas.js';

export const MAX_PAGE = 1000;

const TIME = { type: 'string', description: 'Epoch milliseconds or an ISO 8601 time (2025-12-01T00:00:00Z).' } as const;

const LIST_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    model: { type: 'string', minLength: 1 },
    prediction_id: { type: 'string', minLength: 1 },
    source: { type: 'string', minLength: 1 },
    feedback_type: { type: 'string', enum: [...FEEDBACK_TYPES] },
    from: { ...TIME, description: `Feedback given at or after this time. ${TIME.description}` },
    to: { ...TIME, description: `Feedback given before this time. ${TIME.description}` },
    limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 100 },
    cursor: { type: 'string', minLength: 1, maxLength: 4096, description: 'next_cursor of the previous page.' },
  },
} as const;

const ITEM = {
  type: 'object',
  properties: {
    example_id: { type: 'string' },
    prediction_id: { type: 'string' },
    model: { type: 'string' },
    model_version: { type: 'string' },
    feedback_type: { type: 'string', enum: [...FEEDBACK_TYPES] },
    source: { type: ['string', 'null'] },
    label: { type: ['number', 'null'], description: 'The label the feedback gave (null: a binary model\'s CONFIRMED/REJECTED without a label is resolved by the joiner).' },
    feedback_timestamp: { type: 'integer' },
    feedback_time: { type: 'string' },
    prediction_timestamp: { type: 'integer' },
    label_delay_ms: { type: ['integer', 'null'] },
    score: { type: 'number' },
    threshold: { type: 'number' },
    correction_of: { type: ['string', 'null'], description: 'The example this feedback corrected (a more trusted label for the same prediction).' },
  },
} as const;

const PAGE = {
  type: 'object',
  required: ['items', 'next_cursor'],
  properties: {
    items: { type: 'array', items: ITEM, description: 'Oldest feedback first (by feedback time, then model and example id).' },
    next_cursor: { type: ['string', 'null'] },
  },
} as const;

const COUNTS = { type: 'object', properties: { labels: { type: 'number' }, corrections: { type: 'number' } } } as const;

const NOT_YET_LEARNED = {
  type: 'object',
  description:
    'The labelled examples no published snapshot of each challenger has learned yet, now (from and to do not apply). Exact: a model\'s examples are on one partition of ' +
    'labelled-examples, each row of labelled_examples carries its offset there, and the learner moves its committed offset only when it publishes snapshots. ' +
    'Counted: rows at or past that offset that the learner will learn under its settings: labels (not expired predictions; arrival records and uncertain feedback make no row), ' +
    'corrections only with learner.train_on_corrections, no numeric feature or label beyond learner.max_feature_magnitude. Not counted: what the evaluator has not written to ClickHouse yet. ' +
    'Every challenger of a model learns the same examples and their snapshots are published together, so the count is the same for each; upstream challengers (shadow_scores) learn upstream and are not listed.',
  required: ['topic', 'partition', 'learner_group', 'committed_offset', 'examples', 'challengers', 'note'],
  properties: {
    topic: { type: 'string', description: 'topics.labelled_examples.' },
    partition: { type: ['integer', 'null'], description: 'The partition the model\'s labelled examples go to (murmur2 of the model name); null: the topic does not exist yet.' },
    learner_group: { type: 'string', description: 'The learner\'s consumer group, `<kafka.client_id>-learner`.' },
    committed_offset: { type: ['integer', 'null'], description: 'Its committed offset on that partition: every record below it is in a published snapshot or was not learnable; null: it committed none (everything counts).' },
    examples: { type: ['integer', 'null'], description: 'Learnable rows at or past the committed offset; null when Kafka could not be read (see note).' },
    challengers: {
      type: 'array',
      description: 'The challengers the learner trains for this model (models.<name>.challengers, or the default), then those with snapshots in the registry that it no longer trains (at most 100 in all).',
      items: {
        type: 'object',
        required: ['challenger', 'trained', 'examples', 'latest_snapshot'],
        properties: {
          challenger: { type: 'string' },
          trained: { type: 'boolean', description: 'The learner trains it under this config; false: it learns nothing more (examples null).' },
          examples: { type: ['integer', 'null'], description: 'Labelled examples it has not learned yet (as `examples` above for a trained challenger).' },
          latest_snapshot: {
            type: ['object', 'null'],
            description: 'Its newest snapshot in the registry (model_versions, copied from model-snapshots); null: none yet.',
            required: ['version', 'training_count', 'created_at'],
            properties: {
              version: { type: 'string' },
              training_count: { type: 'integer', description: 'Examples it had learned in all (ModelSnapshot.training_count).' },
              created_at: { type: 'string', description: 'When it was published (ISO 8601).' },
            },
          },
        },
      },
    },
    note: { type: ['string', 'null'], description: 'Why examples is null, or what an offset that is not there means.' },
  },
} as const;

const STATS = {
  type: 'object',
  properties: {
    model: { type: 'string' },
    from: { type: ['string', 'null'] },
    to: { type: ['string', 'null'] },
    totals: { type: 'object', properties: { ...COUNTS.properties, by_type: { type: 'object', additionalProperties: COUNTS } } },
    confirmed: { type: 'number', description: 'USER_CONFIRMED labels.' },
    rejected: { type: 'number', description: 'USER_REJECTED labels.' },
    user_feedback: {
      type: 'object',
      description: 'User labels (USER_CONFIRMED, USER_REJECTED) and how many an expert review overturned. An expert review that agrees is not recorded, so this is not an accuracy among reviewed labels.',
      properties: { labels: { type: 'number' }, overturned_by_expert: { type: 'number' }, overturned_by_expert_rate: { type: ['number', 'null'] } },
    },
    by_day: {
      type: 'array',
      description: 'UTC days of the feedback, oldest first (the latest 366 of the range).',
      items: { type: 'object', properties: { day: { type: 'string' }, labels: { type: 'number' }, corrections: { type: 'number' }, confirmed: { type: 'number' }, rejected: { type: 'number' } } },
    },
    top_contributors: {
      type: 'array',
      description: 'The 10 sources that gave the most labels, with how often their labels were overturned (by anyone, by an expert).',
      items: { type: 'object', properties: { source: { type: 'string' }, labels: { type: 'number' }, corrections: { type: 'number' }, overturned: { type: 'number' }, overturned_by_expert: { type: 'number' } } },
    },
    not_yet_learned: NOT_YET_LEARNED,
  },
} as const;

/** Epoch ms from a query value: digits, or an ISO 8601 time. */
function parseTime(field: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = /^\d{1,16}$/.test(text) ? Number(text) : /^\d{4}-\d\d-\d\d/.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms < 0) throw invalid(field, `querystring ${field} must be epoch milliseconds or an ISO 8601 time, got ${JSON.stringify(text.slice(0, 40))}`);
  return ms;
}

function needClickHouse(services: ApiServices, path: string): FeedbackService {
  if (!services.feedback) throw unavailable(`no ClickHouse (clickhouse.url is not set): ${path} reads the labelled examples and feedback statistics the evaluator writes there`);
  return services.feedback;
}

type ListQuery = Omit<FeedbackFilter, 'from' | 'to'> & { from?: string; to?: string };

export function feedbackRoutes(app: FastifyInstance, services: ApiServices): void {
  const responses = { ...PROBLEMS, 503: UNAVAILABLE };
  app.get<{ Querystring: ListQuery }>('/feedback', {
    schema: { summary: 'The feedback that labelled predictions, filtered and paginated', tags: ['feedback'], security: SECURITY, querystring: LIST_QUERY, response: { 200: PAGE, ...responses } },
    handler: async (request) => {
      const { from, to, ...rest } = request.query;
      const range = { from: parseTime('from', from), to: parseTime('to', to) };
      return needClickHouse(services, 'GET /v1/feedback').list({ ...rest, ...(range.from === undefined ? {} : { from: range.from }), ...(range.to === undefined ? {} : { to: range.to }) });
    },
  });
  app.get<{ Querystring: { model: string; from?: string; to?: string } }>('/feedback/stats', {
    schema: {
      summary: 'Feedback statistics of a model',
      tags: ['feedback'],
      security: SECURITY,
      querystring: { type: 'object', additionalProperties: false, required: ['model'], properties: { model: { type: 'string', minLength: 1 }, from: LIST_QUERY.properties.from, to: LIST_QUERY.properties.to } },
      response: { 200: STATS, ...responses },
    },
    handler: async (request) => {
      const from = parseTime('from', request.query.from);
      const to = parseTime('to', request.query.to);
      return needClickHouse(services, 'GET /v1/feedback/stats').stats(request.query.model, { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) });
    },
  });
}
