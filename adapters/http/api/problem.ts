/**
 * An answer of the /v1 API that is not a success: the HTTP status, a short
 * machine-readable `error`, a message for people, and where it applies the
 * field at fault and how long to wait before asking again (Retry-After).
 * The services behind the routes (runtime/api) throw it; the API's error
 * handler (routes.ts) sends it as `{ error, message, field? }`.
 */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly details: { field?: string; retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = 'ApiProblem';
  }

  /** The body sent. */
  body(): { error: string; message: string; field?: string } {
    return { error: this.error, message: this.message, ...(this.details.field === undefined ? {} : { field: this.details.field }) };
  }
}

/** A server this answer needs is down, busy (ask again in `retryAfterSeconds`) or not configured (no Retry-After). */
export const unavailable = (message: string, retryAfterSeconds?: number) => new ApiProblem(503, 'unavailable', message, retryAfterSeconds === undefined ? {} : { retryAfterSeconds });

/** Bad input: 400 naming the field (a path such as `events[3].score`). */
export const invalid = (field: string, message: string) => new ApiProblem(400, 'validation', message, { field });
