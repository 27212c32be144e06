// Regenerates docs/config.md from the config spec (run after npm run build).
import { writeFileSync } from 'node:fs';
import { configKeysText } from '../dist/cli/commands/config.js';

writeFileSync(
  'docs/config.md',
  `# Configuration keys\n\nGenerated from adapters/config/spec.ts by \`npm run docs:config\`; do not edit by hand.\n\n\`\`\`\n${configKeysText()}\`\`\`\n`,
);
