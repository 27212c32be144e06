import { MODEL_FIELDS, type Config, type ModelConfig } from './spec.js';

/**
 * What `model` predicts: its `models.<name>.task`, or the default task for
 * a model the config does not name. Safe for any name from input events:
 * only the config's own entries count, never what an object inherits
 * (`constructor`, `__proto__`).
 */
export function modelKindOf(config: Config, model: string): ModelConfig['task'] {
  const settings = Object.hasOwn(config.models, model) ? config.models[model] : undefined;
  return settings?.task ?? MODEL_FIELDS.task.default;
}
