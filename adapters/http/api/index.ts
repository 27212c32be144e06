/**
 * The /v1 API on the endpoint's server: its routes (one file per group, all
 * thin: the services behind them are runtime/api), the OpenAPI document
 * (@fastify/swagger, served at /v1/openapi.json and checked in at
 * docs/openapi.json), and the one error handler that turns a failed check
 * or a refusal into `{ error, message, field? }`.
 */
import swagger from '@fastify/swagger';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorMessage } from '../../../core/errors.js';
import { eventSchema } from './event-schemas.js';
import { eventRoutes } from './events-routes.js';
import { feedbackRoutes } from './feedback-routes.js';
import { modelRoutes } from './models-routes.js';
import { ApiProblem } from './problem.js';
import type { ApiServices } from './services.js';
import { fieldProblem, type SchemaProblem } from './validation.js';

export { ApiProblem, invalid, unavailable } from './problem.js';
export type * from './services.js';
export { MAX_PAGE } from './feedback-routes.js';

export const API_PREFIX = '/v1';

export interface ApiOptions {
  /** http.api_max_body, for the 413 message. */
  maxBody: number;
  /** Told of every answer 500 (a bug or an unexpected failure), for the log. */
  onError?: (error: unknown, request: { method: string; url: string }) => void;
}

const OPENAPI = {
  openapi: {
    openapi: '3.1.0',
    info: {
      title: 'feedbackloop',
      version: 'v1',
      description:
        'Send predictions and feedback, read the feedback and its statistics, follow and use each model\'s champion. Served by `feedbackloop run` on its HTTP endpoint (http.*): TLS and the credentials there apply (README, HTTP API).',
    },
    components: {
      securitySchemes: {
        basicAuth: { type: 'http', scheme: 'basic', description: 'http.basic_auth_username and http.basic_auth_password, when set.' },
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'http.bearer_token, when set.' },
      },
    },
  },
} as const;

function sendProblem(error: FastifyError | ApiProblem | Error, request: FastifyRequest, reply: FastifyReply, options: ApiOptions) {
  if (error instanceof ApiProblem) {
    if (error.details.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.details.retryAfterSeconds));
    return reply.code(error.status).send(error.body());
  }
  const e = error as FastifyError;
  if (e.validation) return reply.code(400).send(fieldProblem(e.validation as SchemaProblem[], e.validationContext ?? 'body'));
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return reply.code(413).send({ error: 'too_large', message: `the body is larger than http.api_max_body (${options.maxBody} bytes): send fewer events per request` });
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    // fastify's own refusals: a body that is not JSON, a content type it does not take.
    return reply.code(e.statusCode).send({ error: e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'unsupported_media_type' : 'bad_request', message: e.message });
  }
  options.onError?.(error, { method: request.method, url: request.url.split('?')[0]! });
  return reply.code(500).send({ error: 'internal', message: errorMessage(error) });
}

/** Registers the /v1 routes on `app` (before it is ready). */
export async function registerApi(app: FastifyInstance, services: ApiServices, options: ApiOptions): Promise<void> {
  // The events once, as shared schemas: `components.schemas.Prediction` and `.Feedback` in the document.
  for (const name of ['Prediction', 'Feedback'] as const) app.addSchema({ $id: name, ...eventSchema(name) });
  await app.register(swagger, { ...OPENAPI, refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) } });
  await app.register(
    async (api) => {
      api.setErrorHandler((error, request, reply) => sendProblem(error as FastifyError, request, reply, options));
      eventRoutes(api, services);
      modelRoutes(api, services);
      feedbackRoutes(api, services);
      api.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    },
    { prefix: API_PREFIX },
  );
}
