/** Stable machine-readable error codes; the HTTP layer and CLI map these, never the message text. */
export const ERROR_CODES = [
  'KW_VALIDATION',
  'KW_INVALID_IMPORT',
  'KW_INVALID_CONFIG',
  'KW_NOT_FOUND',
  'KW_CONFLICT',
  'KW_FORBIDDEN',
  'KW_UNAUTHORIZED',
  'KW_STORE',
  'KW_PAYLOAD_TOO_LARGE',
  'KW_INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** One problem found in input: where it is (file, line, record, field path) and what is wrong. */
export interface ErrorDetail {
  /** Where: a field path such as `body.owner`, `Roles[3].RoleName` or `file.csv:12`. */
  path: string;
  message: string;
}

/** Base class of every error Keyward raises on purpose; carries a stable code and optional details. */
export class KeywardError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetail[];

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: ErrorDetail[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? [];
  }
}

/** Input failed validation: a request body, a file, a parameter or a rule. */
export class ValidationError extends KeywardError {
  constructor(
    message: string,
    options: {
      cause?: unknown;
      details?: ErrorDetail[];
      code?: 'KW_VALIDATION' | 'KW_INVALID_IMPORT' | 'KW_INVALID_CONFIG';
    } = {},
  ) {
    super(options.code ?? 'KW_VALIDATION', message, options);
  }
}

/** The thing asked for does not exist. */
export class NotFoundError extends KeywardError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('KW_NOT_FOUND', message, options);
  }
}

/** The request conflicts with what is stored (a duplicate name, a stale version). */
export class ConflictError extends KeywardError {
  constructor(message: string, options: { cause?: unknown; details?: ErrorDetail[] } = {}) {
    super('KW_CONFLICT', message, options);
  }
}

/** Authenticated but not allowed. */
export class ForbiddenError extends KeywardError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('KW_FORBIDDEN', message, options);
  }
}

/** Missing or invalid credentials. */
export class UnauthorizedError extends KeywardError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('KW_UNAUTHORIZED', message, options);
  }
}

/** A storage driver failed; the cause holds the driver error, the message never holds SQL. */
export class StoreError extends KeywardError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('KW_STORE', message, options);
  }
}

/** True when the value is one of Keyward's own errors. */
export function isKeywardError(err: unknown): err is KeywardError {
  return err instanceof KeywardError;
}
