/**
 * The credential-injecting proxy over HTTP: every method on `/proxy/<upstream>[/<path>]` handed to the proxy core
 * with the raw (still percent-encoded) path and query, the request body as a stream (never parsed here), and an
 * abort signal that fires when the agent goes away. The answer streams back as it arrives.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../app/app.js';
import { BROKER_PATHS, type BrokerProxyOptions } from '../broker/index.js';

/** Methods the proxy route answers (the proxy core refuses those no upstream route allows). */
const PROXY_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** Splits `/proxy/<upstream><path>?<query>` as sent, without decoding anything. */
export function splitProxyUrl(rawUrl: string): { upstreamName: string; path: string; query: string } {
  const q = rawUrl.indexOf('?');
  const pathPart = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = q < 0 ? '' : rawUrl.slice(q + 1);
  const rest = pathPart.slice(BROKER_PATHS.proxy.length + 1);
  const slash = rest.indexOf('/');
  return slash < 0
    ? { upstreamName: rest, path: '', query }
    : { upstreamName: rest.slice(0, slash), path: rest.slice(slash), query };
}

/**
 * Registers the proxy routes in their own scope (no body parsing) and closes the proxy with the server.
 * @example
 * await server.register((scope) => registerBrokerProxy(scope, app));
 */
export async function registerBrokerProxy(
  scope: FastifyInstance,
  app: App,
  options: Omit<BrokerProxyOptions, 'proxyUrl'> = {},
): Promise<void> {
  const proxy = app.broker.createProxy({
    ...options,
    proxyUrl: `${app.broker.issuer}${BROKER_PATHS.proxy}`,
    onError: (error, context) => {
      // Never given a secret or a token (credential-proxy contract); the stage says where it failed.
      scope.log.error({ err: error, stage: context.stage, upstream: context.upstream }, 'proxy failure');
    },
  });
  scope.addHook('onClose', async () => {
    await proxy.close();
  });

  // The body is the agent's stream, forwarded as it arrives: no parser may consume it.
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

  // What Fastify refuses before the proxy sees the request (a bad URL, an empty Content-Type header) is answered
  // in the proxy's own format, never in the /api/v1 shape and never with a stack.
  scope.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const status =
      typeof err === 'object' && err !== null ? (err as { statusCode?: unknown }).statusCode : undefined;
    const client = typeof status === 'number' && status >= 400 && status < 500;
    if (!client) request.log.error({ err }, 'proxy request failed');
    return reply
      .code(client ? 400 : 500)
      .header('cache-control', 'no-store')
      .type('application/json; charset=utf-8')
      .send(
        client
          ? { error: 'invalid_request', error_description: 'the request is malformed' }
          : { error: 'server_error', error_description: 'the proxy could not process the request' },
      );
  });

  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const { upstreamName, path, query } = splitProxyUrl(request.raw.url ?? '');
    const controller = new AbortController();
    const onClose = (): void => {
      if (!reply.raw.writableFinished) controller.abort();
    };
    reply.raw.on('close', onClose);
    const res = await proxy.handle({
      method: request.method,
      upstreamName,
      path,
      query,
      headers: request.raw.headers,
      body: request.raw,
      signal: controller.signal,
    });
    // The agent went away: stop reading the upstream's answer too.
    if (controller.signal.aborted) res.body.destroy();
    else controller.signal.addEventListener('abort', () => res.body.destroy(), { once: true });
    return reply.code(res.status).headers(res.headers).send(res.body);
  };

  for (const url of [`${BROKER_PATHS.proxy}/:upstream`, `${BROKER_PATHS.proxy}/:upstream/*`]) {
    scope.route({ method: [...PROXY_METHODS], url, handler });
  }
}
