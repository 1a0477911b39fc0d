/**
 * Serves the dashboard (the React app built into dist/web) at `/`: hashed files under /assets/ with a year of
 * caching, and index.html for `/` and for any other GET of a page path (the app routes in the browser), with a
 * Content-Security-Policy that allows only same-origin scripts, styles, fonts and API calls.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** The policy of the dashboard's page: nothing leaves the origin, nothing inline runs. */
export const WEB_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Paths that belong to the API and protocols, never to the app (their 404 stays JSON). */
const NOT_PAGES = /^\/(?:api|oauth|\.well-known|proxy|assets|healthz|readyz|metrics)(?:\/|$)/;

/** Where the built app is: dist/web beside dist/src when running the build, <repo>/dist/web from sources. */
export function defaultWebRoot(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  return /[\\/]dist[\\/]src[\\/]server[\\/]?$/.test(here)
    ? join(here, '..', '..', 'web')
    : join(here, '..', '..', 'dist', 'web');
}

/** The dashboard's routes on a server, and the fallback the server's 404 handler asks first. */
export interface WebUi {
  /** True when the app is built and served. */
  readonly available: boolean;
  /** Answers a GET of a page path that accepts HTML with index.html; false when the request is not one. */
  fallback(request: FastifyRequest, reply: FastifyReply): boolean;
}

function acceptsHtml(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes('text/html');
}

/**
 * Registers the app's files on `server`. Without a build (no index.html under `root`), `/` answers a JSON 404
 * that says how to build it, and nothing else changes.
 */
export async function registerWebUi(server: FastifyInstance, root = defaultWebRoot()): Promise<WebUi> {
  const indexPath = join(root, 'index.html');
  if (!existsSync(indexPath)) {
    server.get('/', async (request, reply) =>
      reply.code(404).send({
        code: 'KW_NOT_FOUND',
        message:
          'the web dashboard is not built: run `npm run build`; the API is described at /api/openapi.json',
        details: [],
        requestId: request.id,
      }),
    );
    return { available: false, fallback: () => false };
  }
  const index = readFileSync(indexPath);
  const sendIndex = (reply: FastifyReply): FastifyReply =>
    reply
      .code(200)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', WEB_CSP)
      .send(index);

  // In its own scope: a path the file server refuses (an encoded `..`, a dotfile) is a plain 404 here.
  await server.register(async (scope) => {
    scope.setErrorHandler((err: unknown, request, reply) => {
      const status = (err as { statusCode?: unknown }).statusCode;
      if (typeof status !== 'number' || status >= 500) throw err;
      return reply.code(404).send({
        code: 'KW_NOT_FOUND',
        message: `no file ${request.url.split('?')[0] ?? ''}`,
        details: [],
        requestId: request.id,
      });
    });
    await scope.register(fastifyStatic, {
      root: join(root, 'assets'),
      prefix: '/assets/',
      index: false,
      immutable: true,
      maxAge: '365d',
      dotfiles: 'deny',
    });
  });
  server.get('/', async (_request, reply) => sendIndex(reply));
  return {
    available: true,
    fallback(request, reply) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return false;
      const path = request.url.split('?')[0] ?? '/';
      if (NOT_PAGES.test(path) || !acceptsHtml(request)) return false;
      sendIndex(reply);
      return true;
    },
  };
}
