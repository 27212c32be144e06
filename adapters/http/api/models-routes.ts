/**
 * GET /v1/models/{model}/champion (who serves a model now, from the sources
 * `feedbackloop status` reads) and POST /v1/models/{model}/score (scores one
 * input with the champion snapshot, as the scorer library does).
 */
import type { FastifyInstance } from 'fastify';
import { ApiProblem } from './problem.js';
import type { ApiServices } from './services.js';
import { PROBLEMS, SECURITY, UNAVAILABLE } from './common-schemas.js';
import { eventSchema } from './event-schemas.js';

const PARAMS = {
  type: 'object',
  required: ['model'],
  properties: { model: { type: 'string', minLength: 1, description: 'The model name (URL-encoded).' } },
} as const;

const nullableString = (description: string) => ({ type: ['string', 'null'], description });

const CHAMPION = {
  type: 'object',
  required: ['model', 'version', 'since', 'decided_by', 'decision', 'our_snapshot', 'snapshot_found', 'pinned', 'sources', 'note'],
  properties: {
    model: { type: 'string' },
    version: nullableString('The champion version; null when nothing names one yet.'),
    since: nullableString('When the decision that made it champion was published (ISO 8601); null for the version upstream serves before any decision.'),
    decided_by: nullableString('Who decided: `feedbackloop-promoter (<client id>)` (the policy) or `user:<name>` (feedbackloop promote / rollback).'),
    decision: {
      type: ['object', 'null'],
      description: 'The decision that made it champion (the PromotionDecision on model-promotions); null for the version upstream serves before any decision.',
      required: ['id', 'kind', 'policy', 'actor', 'from_version', 'reason', 'evidence_at'],
      properties: {
        id: { type: 'string', description: 'decision_id: `<model>#<n>` from the promoter, `manual:…` from promote / rollback.' },
        kind: { type: 'string', enum: ['PROMOTE', 'ROLLBACK'] },
        policy: { type: 'string', description: 'What decided: the promoter\'s policy and the settings it decided under (e.g. `asymptotic-cs alpha=0.05 metric=log_loss min_samples=500 …`), or `manual` for feedbackloop promote / rollback.' },
        actor: { type: 'string', description: 'Who decided (the same as decided_by).' },
        from_version: { type: 'string', description: 'The champion it replaced.' },
        reason: { type: 'string', description: 'The decision\'s sentence: the evidence (promoter) or the reason given (promote --reason).' },
        evidence_at: { type: 'string', description: 'Event time of the evidence it was taken on (ISO 8601).' },
      },
    },
    our_snapshot: { type: 'boolean', description: 'The version is one of our snapshots, `<model>/<challenger>@<n>` (POST .../score serves it); false: upstream serves a model of its own.' },
    snapshot_found: { type: ['boolean', 'null'], description: 'The snapshot is in the model registry (ClickHouse model_versions, copied from model-snapshots); null when not looked up.' },
    pinned: {
      type: ['object', 'null'],
      required: ['by', 'reason', 'since'],
      properties: { by: { type: 'string' }, reason: { type: 'string' }, since: { type: 'string' } },
    },
    sources: { type: 'array', items: { type: 'string', enum: ['model-promotions', 'champion_history', 'metric_points', 'metric_points_merged'] } },
    note: nullableString('When the sources disagree or one could not be read, what that means.'),
  },
} as const;

const prediction = eventSchema('Prediction') as { properties: Record<string, unknown> };

const SCORE_BODY = {
  type: 'object',
  description: 'The features of a prediction (and its categorical features), as a prediction carries them.',
  required: ['features'],
  properties: { features: prediction.properties.features, categorical: prediction.properties.categorical },
} as const;

const SCORED = {
  type: 'object',
  required: ['model', 'version', 'score'],
  properties: {
    model: { type: 'string' },
    version: { type: 'string', description: 'The champion snapshot that scored it.' },
    score: { type: 'number', description: "Probability of the positive class (binary), the predicted value (regression), the predicted class's probability (multiclass) or the largest label probability (multilabel)." },
    class_scores: { type: 'object', additionalProperties: { type: 'number' }, description: 'Multiclass: the probability of each class of the model; multilabel: the probability that each label applies (independent).' },
    predicted_class: { type: 'string', description: 'Multiclass only: the class of highest probability (the first in the model\'s class order on a tie).' },
    predicted_labels: { type: 'array', items: { type: 'string' }, description: 'Multilabel only: the labels whose probability is at least 0.5, in the model\'s label order.' },
  },
} as const;

export function modelRoutes(app: FastifyInstance, services: ApiServices): void {
  app.get<{ Params: { model: string } }>('/models/:model/champion', {
    schema: {
      summary: 'The champion of a model: its version, since when, who decided, whether it is one of our snapshots',
      tags: ['models'],
      security: SECURITY,
      params: PARAMS,
      response: { 200: CHAMPION, ...PROBLEMS, 404: { ...PROBLEMS[400], description: 'No source knows this model.' }, 503: UNAVAILABLE },
    },
    handler: async (request) => {
      const answer = await services.champion(request.params.model);
      if (!answer) throw new ApiProblem(404, 'unknown_model', `no decision, registry entry or figures name model ${JSON.stringify(request.params.model)}`);
      return answer;
    },
  });
  app.post<{ Params: { model: string }; Body: { features: unknown; categorical?: unknown } }>('/models/:model/score', {
    schema: {
      summary: 'Score one input with the champion snapshot of a model',
      tags: ['models'],
      security: SECURITY,
      params: PARAMS,
      body: SCORE_BODY,
      response: {
        200: SCORED,
        ...PROBLEMS,
        404: { ...PROBLEMS[400], description: 'No source knows this model.' },
        409: { ...PROBLEMS[400], description: 'The champion is not one of our snapshots: upstream serves it, score with your own model.' },
        503: UNAVAILABLE,
      },
    },
    handler: async (request) => services.score(request.params.model, request.body),
  });
}
