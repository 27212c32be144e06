/**
 * The field a contract violation names. The validators of core/events.ts
 * say it first in their messages — `prediction: features.amount must be a
 * finite number, got NaN`, `feedback: source is 300 characters long, …`,
 * `prediction: segments has more than 32 entries …` — so the API can
 * answer with the field without the validators changing shape.
 */

const FIELD = /^(?:prediction|feedback|labelled example): ([A-Za-z_][A-Za-z0-9_]*)(\.[^\s]+)?/;

/** The field path of a ValidationError message (`features.amount`, `source`); '' when it is about the event as a whole. */
export function contractField(message: string): string {
  const match = FIELD.exec(message);
  return match ? `${match[1]}${match[2] ?? ''}` : '';
}
