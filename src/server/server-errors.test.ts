import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConflictError,
  ForbiddenError,
  KeywardError,
  NotFoundError,
  StoreError,
  UnauthorizedError,
  ValidationError,
} from '../core/errors.js';
import { BearerTokenError, GENERIC_MESSAGES, issuesToDetails, toErrorReply } from './server-errors.js';

describe('toErrorReply', () => {
  it('maps each Keyward error class to its status and keeps its message and details', () => {
    const cases: Array<[Error, number, string]> = [
      [new ValidationError('bad', { details: [{ path: 'body.x', message: 'no' }] }), 400, 'KW_VALIDATION'],
      [new ValidationError('bad file', { code: 'KW_INVALID_IMPORT' }), 400, 'KW_INVALID_IMPORT'],
      [new NotFoundError('none'), 404, 'KW_NOT_FOUND'],
      [new ConflictError('dup'), 409, 'KW_CONFLICT'],
      [new ForbiddenError('no'), 403, 'KW_FORBIDDEN'],
      [new UnauthorizedError('who'), 401, 'KW_UNAUTHORIZED'],
      [new KeywardError('KW_PAYLOAD_TOO_LARGE', 'big'), 413, 'KW_PAYLOAD_TOO_LARGE'],
    ];
    for (const [err, status, code] of cases) {
      const r = toErrorReply(err, 'r');
      expect(r.status).toBe(status);
      expect(r.body).toEqual({
        code,
        message: err.message,
        details: (err as KeywardError).details,
        requestId: 'r',
      });
      expect(r.log).toBe('info');
    }
  });

  it('hides the message of store, config and internal errors', () => {
    expect(toErrorReply(new StoreError('SQLITE_CORRUPT at /var/x.db'), 'r')).toEqual({
      status: 503,
      body: { code: 'KW_STORE', message: GENERIC_MESSAGES.store, details: [], requestId: 'r' },
      headers: {},
      log: 'error',
    });
    for (const err of [
      new ValidationError('master key mismatch', { code: 'KW_INVALID_CONFIG' }),
      new KeywardError('KW_INTERNAL', 'internal detail'),
      new Error('plain'),
      'a string',
      null,
    ]) {
      expect(toErrorReply(err, 'r')).toEqual({
        status: 500,
        body: { code: 'KW_INTERNAL', message: GENERIC_MESSAGES.internal, details: [], requestId: 'r' },
        headers: {},
        log: 'error',
      });
    }
  });

  it('adds a Bearer challenge to 401, with error="invalid_token" for a rejected token', () => {
    expect(toErrorReply(new BearerTokenError('missing', false), 'r').headers).toEqual({
      'www-authenticate': 'Bearer realm="keyward"',
    });
    expect(toErrorReply(new BearerTokenError('wrong', true), 'r').headers).toEqual({
      'www-authenticate': 'Bearer realm="keyward", error="invalid_token"',
    });
  });

  it("maps Fastify's request errors to 4xx", () => {
    const fst = (code: string, statusCode: number, message = 'm') =>
      Object.assign(new Error(message), { code, statusCode });
    expect(toErrorReply(fst('FST_ERR_CTP_BODY_TOO_LARGE', 413), 'r').status).toBe(413);
    expect(
      toErrorReply(fst('FST_ERR_CTP_BODY_TOO_LARGE', 413), 'r', { importLimitBytes: 10 }).body.message,
    ).toBe('the file is larger than the import limit of 10 bytes (maxImportBytes)');
    expect(toErrorReply(fst('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415), 'r').status).toBe(415);
    expect(toErrorReply(fst('FST_ERR_CTP_INVALID_JSON_BODY', 400), 'r').body).toEqual({
      code: 'KW_VALIDATION',
      message: 'the request body is not valid JSON',
      details: [{ path: 'body', message: 'malformed JSON' }],
      requestId: 'r',
    });
    expect(toErrorReply(fst('FST_ERR_CTP_INVALID_CONTENT_LENGTH', 400, 'bad length'), 'r')).toMatchObject({
      status: 400,
      body: { code: 'KW_VALIDATION', message: 'bad length' },
    });
    // A non-Fastify error with a statusCode is still an internal error.
    expect(toErrorReply(Object.assign(new Error('x'), { statusCode: 404 }), 'r').status).toBe(500);
  });
});

describe('issuesToDetails', () => {
  it('prefixes paths with the source and splits unknown keys into one detail each', () => {
    const r = z.strictObject({ a: z.object({ b: z.number() }) }).safeParse({ a: { b: 'x' }, c: 1, d: 2 });
    expect(r.success).toBe(false);
    expect(issuesToDetails(r.error!.issues, 'body')).toEqual([
      { path: 'body.a.b', message: 'Invalid input: expected number, received string' },
      { path: 'body.c', message: 'unknown field' },
      { path: 'body.d', message: 'unknown field' },
    ]);
  });
});
