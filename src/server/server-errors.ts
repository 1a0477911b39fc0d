/** The one place where the HTTP layer turns an error into a status code and the `{ code, message, details, requestId }` body. */
import type { z } from 'zod';
import { isKeywardError, UnauthorizedError, type ErrorCode, type ErrorDetail } from '../core/errors.js';
import type { ErrorBody } from './server-schemas.js';

/** Where a validated value came from; used as the first segment of error detail paths. */
export type InputSource = 'params' | 'query' | 'body';

/** Builds error details from zod issues: one per problem, with dotted paths like `query.limit` or `body.tags.2`. */
export function issuesToDetails(issues: readonly z.core.$ZodIssue[], source: InputSource): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const issue of issues) {
    const base = [source, ...issue.path.map(String)].join('.');
    if (issue.code === 'unrecognized_keys') {
      // One detail per unknown field, so a client can point at each.
      for (const key of issue.keys) details.push({ path: `${base}.${key}`, message: 'unknown field' });
    } else {
      details.push({ path: base, message: issue.message });
    }
  }
  return details;
}

/** Per-parse zod error map: a missing value says "is required" instead of "expected string, received undefined". */
export const requiredErrorMap = (issue: z.core.$ZodRawIssue): string | undefined =>
  issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : undefined;

/** How the HTTP layer answers an error: the status, the body, any extra headers, and how loudly to log it. */
export interface ErrorReply {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
  /** `error`: log with the stack (the client sees a generic message); `info`: a client mistake. */
  log: 'error' | 'info';
}

const STATUS_BY_CODE: Record<ErrorCode, number> = {
  KW_VALIDATION: 400,
  KW_INVALID_IMPORT: 400,
  KW_INVALID_CONFIG: 500,
  KW_NOT_FOUND: 404,
  KW_CONFLICT: 409,
  KW_FORBIDDEN: 403,
  KW_UNAUTHORIZED: 401,
  KW_STORE: 503,
  KW_PAYLOAD_TOO_LARGE: 413,
  KW_INTERNAL: 500,
};

/** Messages for failures whose cause must stay in the server log. */
export const GENERIC_MESSAGES = {
  internal: 'internal error; the server log has the details under this request id',
  store: 'the store is unavailable; try again later (the server log has the details under this request id)',
} as const;

/** Reads a property of an unknown value. */
function prop(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/** A missing or rejected bearer token; `invalidToken` adds `error="invalid_token"` to WWW-Authenticate (RFC 6750 §3). */
export class BearerTokenError extends UnauthorizedError {
  readonly invalidToken: boolean;

  constructor(message: string, invalidToken: boolean) {
    super(message);
    this.invalidToken = invalidToken;
  }
}

/**
 * Maps any error to the reply: Keyward errors by code, Fastify's request errors (body too large, bad media type,
 * empty or malformed JSON) to 4xx, and everything else to a generic 500.
 */
export function toErrorReply(
  err: unknown,
  requestId: string,
  context: { importLimitBytes?: number } = {},
): ErrorReply {
  const reply = (
    status: number,
    code: ErrorCode,
    message: string,
    details: ErrorDetail[] = [],
    log: 'error' | 'info' = 'info',
  ): ErrorReply => ({
    status,
    body: { code, message, details, requestId },
    headers: {},
    log,
  });

  if (isKeywardError(err)) {
    const status = STATUS_BY_CODE[err.code];
    if (err.code === 'KW_STORE') return reply(status, err.code, GENERIC_MESSAGES.store, [], 'error');
    if (status >= 500) return reply(500, 'KW_INTERNAL', GENERIC_MESSAGES.internal, [], 'error');
    const r = reply(status, err.code, err.message, err.details);
    if (err.code === 'KW_UNAUTHORIZED') {
      r.headers['www-authenticate'] =
        err instanceof BearerTokenError && err.invalidToken
          ? 'Bearer realm="keyward", error="invalid_token"'
          : 'Bearer realm="keyward"';
    }
    return r;
  }

  const fastifyCode = prop(err, 'code');
  switch (fastifyCode) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const limit = context.importLimitBytes;
      return reply(
        413,
        'KW_PAYLOAD_TOO_LARGE',
        limit === undefined
          ? 'the request body is larger than the server accepts (bodyLimitBytes)'
          : `the file is larger than the import limit of ${limit} bytes (maxImportBytes)`,
        [{ path: 'body', message: 'too large' }],
      );
    }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return reply(
        415,
        'KW_VALIDATION',
        context.importLimitBytes === undefined
          ? 'unsupported content type: send JSON with Content-Type: application/json'
          : 'unsupported content type: send the file with Content-Type application/octet-stream, application/json or text/*',
        [{ path: 'headers.content-type', message: 'unsupported media type' }],
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return reply(
        400,
        'KW_VALIDATION',
        'the request body is empty but Content-Type is application/json; send a JSON object or drop the header',
        [{ path: 'body', message: 'empty' }],
      );
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return reply(400, 'KW_VALIDATION', 'the request body is not valid JSON', [
        { path: 'body', message: 'malformed JSON' },
      ]);
    default:
      break;
  }
  const statusCode = prop(err, 'statusCode');
  if (
    typeof fastifyCode === 'string' &&
    fastifyCode.startsWith('FST_') &&
    typeof statusCode === 'number' &&
    statusCode >= 400 &&
    statusCode < 500
  ) {
    // Fastify's own request errors (bad content length, bad URL) carry safe messages.
    return reply(statusCode, 'KW_VALIDATION', String(prop(err, 'message') ?? 'bad request'));
  }
  return reply(500, 'KW_INTERNAL', GENERIC_MESSAGES.internal, [], 'error');
}
