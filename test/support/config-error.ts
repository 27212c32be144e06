/** The ConfigError `fn` throws (the test fails if it throws nothing, or something else). */
import { expect } from 'vitest';
import { ConfigError } from '../../core/errors.js';

export function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}
