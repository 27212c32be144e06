// Regenerates docs/openapi.json, the OpenAPI document of the /v1 API as the server generates it (run after npm run build).
import { writeFileSync } from 'node:fs';
import { openapiText } from '../dist/adapters/http/api/openapi.js';

writeFileSync('docs/openapi.json', await openapiText());
