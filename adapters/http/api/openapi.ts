/**
 * The OpenAPI document of the /v1 API as the server generates it
 * (@fastify/swagger, from the routes' schemas), for the default settings:
 * what `npm run docs:openapi` writes to docs/openapi.json and what
 * test/unit/api-openapi.test.ts compares it with. Built on a server that is
 * never started, with services that are never called.
 */
import { CONFIG_SPEC } from '../../config/spec.js';
import { buildHttpServer } from '../server.js';
import { registerApi } from './index.js';
import type { ApiServices } from './services.js';

const never = (): never => {
  throw new Error('the document is generated without services');
};

/** The document, as JSON text (2-space indented, newline at the end). */
export async function openapiText(): Promise<string> {
  const fields = CONFIG_SPEC.http.fields;
  const services: ApiServices = { maxBatch: fields.api_max_batch.default, post: never, champion: never, score: never, feedback: undefined };
  const app = await buildHttpServer({ host: '127.0.0.1', port: 0, registry: { metrics: async () => '', contentType: 'text/plain' }, routes: (a) => registerApi(a, services, { maxBody: fields.api_max_body.default }) });
  try {
    return `${JSON.stringify(app.swagger(), null, 2)}\n`;
  } finally {
    await app.close();
  }
}
