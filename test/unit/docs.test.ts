import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configKeysText } from '../../cli/commands/config.js';

describe('docs', () => {
  it('docs/config.md lists exactly the config keys the code defines (regenerate: npm run docs:config)', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'config.md'), 'utf8');
    expect(doc).toBe(`# Configuration keys\n\nGenerated from adapters/config/spec.ts by \`npm run docs:config\`; do not edit by hand.\n\n\`\`\`\n${configKeysText()}\`\`\`\n`);
  });
});
