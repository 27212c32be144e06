/**
 * POST /v1/predictions and POST /v1/feedback: one event, or `{ "events":
 * [...] }` (at most http.api_max_batch, else 413 before anything is
 * checked). Answered 202 `{ accepted: n }` once Kafka acknowledged every
 * event; one bad event refuses the whole request (400 naming it), nothing
 * of it sent.
 */
import type { FastifyInstance } from 'fastify';
import { ApiProblem } from './problem.js';
import type { ApiServices, EventKind } from './services.js';
import { PROBLEMS, SECURITY, UNAVAILABLE } from './common-schemas.js';

const ACCEPTED = {
  type: 'object',
  description: 'Every event was written to its topic and acknowledged by Kafka (acks=all).',
  required: ['accepted'],
  properties: { accepted: { type: 'integer', description: 'Events written.' } },
} as const;

function bodySchema(event: Record<string, unknown>, max: number) {
  return {
    description: `One event, or \`{ "events": [...] }\` with 1 to ${max} events (http.api_max_batch).`,
    type: 'object',
    if: { required: ['events'] },
    then: { type: 'object', required: ['events'], additionalProperties: false, properties: { events: { type: 'array', minItems: 1, items: event } } },
    else: event,
  };
}

const isBatch = (body: unknown): body is { events: unknown[] } => typeof body === 'object' && body !== null && Object.hasOwn(body, 'events');

function route(app: FastifyInstance, services: ApiServices, kind: EventKind, path: string, schemaName: 'Prediction' | 'Feedback', summary: string): void {
  app.post(path, {
    schema: {
      summary,
      tags: ['events'],
      security: SECURITY,
      // The shared schema registerApi adds (components.schemas.<name> in the document).
      body: bodySchema({ $ref: `${schemaName}#` }, services.maxBatch),
      response: { 202: ACCEPTED, ...PROBLEMS, 413: { ...PROBLEMS[400], description: 'More events than http.api_max_batch, or a body larger than http.api_max_body.' }, 503: UNAVAILABLE },
    },
    // Counted before the schema checks every event of an oversized batch.
    preValidation: async (request) => {
      const body = request.body;
      if (isBatch(body) && Array.isArray(body.events) && body.events.length > services.maxBatch) {
        throw new ApiProblem(413, 'too_many_events', `${body.events.length} events in one request: at most ${services.maxBatch} (http.api_max_batch); split them`, { field: 'events' });
      }
    },
    handler: async (request, reply) => {
      const body = request.body;
      const batched = isBatch(body);
      const accepted = await services.post(kind, batched ? body.events : [body], batched);
      return reply.code(202).send({ accepted });
    },
  });
}

export function eventRoutes(app: FastifyInstance, services: ApiServices): void {
  route(app, services, 'prediction', '/predictions', 'Prediction', 'Send predictions to the predictions topic');
  route(app, services, 'feedback', '/feedback', 'Feedback', 'Send feedback to the feedback topic');
}
