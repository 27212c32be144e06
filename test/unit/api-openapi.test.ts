/** docs/openapi.json is the document the server generates (regenerate: npm run docs:openapi). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openapiText } from '../../adapters/http/api/openapi.js';

describe('the OpenAPI document', () => {
  it('docs/openapi.json is what the server generates (regenerate: npm run docs:openapi)', async () => {
    const checkedIn = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'openapi.json'), 'utf8');
    expect(checkedIn).toBe(await openapiText());
  });

  it('documents every /v1 route, the events once as shared schemas, and the two credential schemes', async () => {
    const doc = JSON.parse(await openapiText());
    expect(Object.keys(doc.paths).sort()).toEqual(['/v1/feedback', '/v1/feedback/stats', '/v1/models/{model}/champion', '/v1/models/{model}/score', '/v1/predictions']);
    expect(Object.keys(doc.paths['/v1/feedback']).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.components.schemas).sort()).toEqual(['Feedback', 'Prediction']);
    expect(doc.components.schemas.Prediction.required).toEqual(['prediction_id', 'model', 'model_version', 'timestamp', 'features', 'score']);
    expect(doc.components.schemas.Feedback.properties.label.type).toEqual(['number', 'null']);
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['basicAuth', 'bearerAuth']);
    expect(Object.keys(doc.paths['/v1/predictions'].post.responses).sort()).toEqual(['202', '400', '401', '413', '503']);
  });
});
