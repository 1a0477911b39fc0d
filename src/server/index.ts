/** The HTTP interface's public surface. */
export {
  buildServer,
  startServer,
  type BuildServerOptions,
  type StartServerOptions,
  type RunningServer,
} from './server.js';
export { buildOpenApiDocument } from './server-openapi.js';
