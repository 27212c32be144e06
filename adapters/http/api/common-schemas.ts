/** JSON schemas the /v1 routes share: the answers that are not successes. */

export const PROBLEM = {
  type: 'object',
  description: 'What went wrong: `error` for programs, `message` for people, `field` (a path such as `events[3].score`) when one field is at fault.',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    field: { type: 'string' },
  },
} as const;

/** The problem answers every /v1 route may give, and those of the routes that need a server. */
export const PROBLEMS = {
  400: { ...PROBLEM, description: 'Bad input: `field` names where.' },
  401: { ...PROBLEM, description: 'Missing or wrong credentials (http.basic_auth_*, http.bearer_token), with a WWW-Authenticate challenge per scheme.' },
} as const;

export const UNAVAILABLE = { ...PROBLEM, description: 'A server this answer needs is down, busy or not configured; Retry-After says when to ask again when it may help.' } as const;

/** Basic auth or a bearer token when the endpoint has credentials; none otherwise. */
export const SECURITY: Array<Record<string, string[]>> = [{ basicAuth: [] }, { bearerAuth: [] }, {}];
