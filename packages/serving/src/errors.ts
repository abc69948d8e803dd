// Errors in OpenAI's shape: { error: { message, type, param, code } } with the HTTP status the
// official clients map to their error classes (400 BadRequest, 401 Authentication, 404 NotFound,
// 413/408 plain APIError, 429 RateLimit, 5xx InternalServer).

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'timeout_error'
  | 'server_error'
  | 'service_unavailable';

export interface OpenAIErrorBody {
  error: { message: string; type: ErrorType; param: string | null; code: string | null };
}

/** An error a route raises on purpose: it becomes this status and body, never a 500. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: ErrorType = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
    /** Extra response headers (Retry-After on 429). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  body(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** A field failed validation: 400 naming the field. */
export function badField(param: string, why: string, got?: unknown): ApiError {
  const shown = got === undefined ? '' : `, got ${preview(got)}`;
  return new ApiError(400, `${param}: ${why}${shown}`, 'invalid_request_error', param, 'invalid_value');
}

/** A short JSON rendering of a value for an error message (a 10 MB string must not come back). */
export function preview(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * Maps what fastify or Node raise while reading a request (bad JSON, a body over the limit, a
 * wrong content type, a client that is too slow) to a clear 4xx in OpenAI's shape.
 */
export function fromFrameworkError(e: Error & { statusCode?: number; code?: string }): ApiError {
  if (e instanceof ApiError) return e;
  // The engine's own queue bound (a backstop behind the server's): still a 429.
  if (e.name === 'QueueFullError') {
    return new ApiError(429, e.message, 'rate_limit_error', null, 'queue_full', { 'retry-after': '1' });
  }
  const status = e.statusCode ?? 500;
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(400, `malformed JSON body: ${e.message}`, 'invalid_request_error', null, 'invalid_json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, `request body too large: ${e.message}`, 'invalid_request_error', null, 'body_too_large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(
        415,
        `unsupported content type: send the body as application/json (${e.message})`,
        'invalid_request_error',
        null,
        'unsupported_media_type',
      );
  }
  if (e instanceof SyntaxError || (status === 400 && /JSON/i.test(e.message))) {
    return new ApiError(400, `malformed JSON body: ${e.message}`, 'invalid_request_error', null, 'invalid_json');
  }
  if (status === 408) return new ApiError(408, 'request timed out while reading it', 'timeout_error', null, 'timeout');
  if (status >= 400 && status < 500)
    return new ApiError(status, e.message, 'invalid_request_error', null, e.code ?? null);
  return new ApiError(500, `internal error: ${e.message}`, 'server_error', null, null);
}
