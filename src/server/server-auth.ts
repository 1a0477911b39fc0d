/** Bearer-token authentication of the /api/v1 routes against the installation's admin token. */
import type { FastifyRequest } from 'fastify';
import { BearerTokenError } from './server-errors.js';

/** Checks a presented token (constant time); `createAdminTokenVerifier(store)` in production. */
export type TokenVerifier = (token: string) => Promise<boolean>;

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** Builds the onRequest hook that rejects a request without a valid `Authorization: Bearer <token>` header. */
export function createBearerAuth(verify: TokenVerifier): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    const header = request.headers.authorization;
    if (header === undefined || header.trim() === '') {
      throw new BearerTokenError(
        'missing bearer token: send "Authorization: Bearer <admin token>" (the token is in <dataDir>/admin.token)',
        false,
      );
    }
    const match = BEARER.exec(header);
    if (!match) {
      throw new BearerTokenError('the Authorization header must be "Bearer <admin token>"', false);
    }
    if (!(await verify(match[1]!))) {
      throw new BearerTokenError('invalid bearer token', true);
    }
  };
}
