import { MODEL_FIELDS, type Config, type ModelConfig } from './spec.js';

/**
 * What `model` predicts: its `models.<name>.task`, or the default task for
 * a model the config does not name. Safe for any name from input events:
 * only the config's own entries count, never what an object inherits
 * (`constructor`, `__proto__`).
 */
export function modelKindOf(config: Config, model: string): ModelConfig['task'] {
  return settingsOf(config, model)?.task ?? MODEL_FIELDS.task.default;
}

/** The challenger presets `models.<name>.challengers` names for `model` (none for a model the config does not name); as safe as modelKindOf. */
export function modelChallengersOf(config: Config, model: string): ModelConfig['challengers'] {
  return settingsOf(config, model)?.challengers ?? [];
}

/** The classes (multiclass) or labels (multilabel) `models.<name>.classes` names for `model`, in order (none for a model the config does not name); as safe as modelKindOf. */
export function modelClassesOf(config: Config, model: string): readonly string[] {
  return settingsOf(config, model)?.classes ?? [];
}

/** The numeric head of a multiclass `model` (`models.<name>.numeric_target`), or null; as safe as modelKindOf. */
export function modelNumericTargetOf(config: Config, model: string): string | null {
  return settingsOf(config, model)?.numeric_target ?? null;
}

/** The config's own entry for `model`, never an inherited member. */
function settingsOf(config: Config, model: string): ModelConfig | undefined {
  return Object.hasOwn(config.models, model) ? config.models[model] : undefined;
}
