import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ini from 'ini';
import { RegistryError } from './registry-errors.js';

/** The public npm registry, used when no configuration names another. */
export const DEFAULT_REGISTRY = 'https://registry.npmjs.org/';

/** Where the client reads its configuration: the project directory, the home directory and the environment. */
export interface NpmConfigSources {
  cwd: string;
  home: string;
  env: Record<string, string | undefined>;
}

/** One `//host/path/:_authToken=` line, kept out of every message and return value. */
interface TokenEntry {
  /** `//host[:port]/path/`, lower-case host, always ending in `/`. */
  prefix: string;
  token: string;
}

/** Registry settings resolved from .npmrc files and the environment. */
export interface NpmConfig {
  /** Default registry URL, ending in `/`. */
  readonly registry: string;
  /** Registry URL (ending in `/`) for a scope, keyed `@scope`. */
  readonly scopes: ReadonlyMap<string, string>;
  /** The .npmrc files read, in the order applied (user, then project). */
  readonly files: readonly string[];
  /** The registry a package name is fetched from (its scope's, or the default). */
  registryFor(name: string): string;
  /** The bearer token for a request URL, by longest `//host/path/` prefix; null when none matches. */
  tokenFor(url: string): string | null;
}

/**
 * Reads npm registry configuration: `<home>/.npmrc` (or `npm_config_userconfig`), then `<cwd>/.npmrc`, then
 * `npm_config_registry` from the environment; later sources win. `${VAR}` in values is replaced from `env`
 * (`${VAR?}` may be unset); an unset `${VAR}` is an error naming the file and key, as npm does.
 */
export function loadNpmConfig(sources: NpmConfigSources): NpmConfig {
  const { env } = sources;
  const userFile =
    nonEmpty(env['npm_config_userconfig']) ??
    nonEmpty(env['NPM_CONFIG_USERCONFIG']) ??
    path.join(sources.home, '.npmrc');
  const projectFile = path.join(sources.cwd, '.npmrc');
  const merged = new Map<string, string>();
  const files: string[] = [];
  for (const file of userFile === projectFile ? [projectFile] : [userFile, projectFile]) {
    if (!existsSync(file)) continue;
    files.push(file);
    for (const [key, value] of readNpmrc(file, env)) merged.set(key, value);
  }
  const envRegistry = nonEmpty(env['npm_config_registry']) ?? nonEmpty(env['NPM_CONFIG_REGISTRY']);
  const registry = withSlash(envRegistry ?? merged.get('registry') ?? DEFAULT_REGISTRY, 'registry');
  const scopes = new Map<string, string>();
  const tokens: TokenEntry[] = [];
  for (const [key, value] of merged) {
    const scope = /^(@[^:/]+):registry$/.exec(key);
    if (scope !== null) scopes.set(scope[1]!.toLowerCase(), withSlash(value, key));
    const auth = /^(\/\/[^/]+(?:\/.*)?):_authToken$/.exec(key);
    if (auth !== null && value !== '') tokens.push({ prefix: normalisePrefix(auth[1]!), token: value });
  }
  tokens.sort((a, b) => b.prefix.length - a.prefix.length);
  return Object.freeze({
    registry,
    scopes,
    files,
    registryFor(name: string): string {
      const slash = name.indexOf('/');
      if (!name.startsWith('@') || slash === -1) return registry;
      return scopes.get(name.slice(0, slash).toLowerCase()) ?? registry;
    },
    tokenFor(url: string): string | null {
      let u: URL;
      try {
        u = new URL(url);
      } catch {
        return null;
      }
      const nerf = `//${u.host.toLowerCase()}${u.pathname}`;
      return tokens.find((t) => nerf.startsWith(t.prefix))?.token ?? null;
    },
  });
}

function readNpmrc(file: string, env: Record<string, string | undefined>): Map<string, string> {
  let parsed: Record<string, unknown>;
  try {
    parsed = ini.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RegistryError(`${file}: cannot read this .npmrc`, { cause: err, subject: file });
  }
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(parsed)) {
    // Sections ([name]) and arrays are not registry settings; npm ignores them for registry and auth.
    if (typeof value !== 'string') continue;
    out.set(key, expandEnv(value, env, file, key));
  }
  return out;
}

/** Replaces `${VAR}` and `${VAR?}` from env; `\${` stays literal. */
function expandEnv(
  value: string,
  env: Record<string, string | undefined>,
  file: string,
  key: string,
): string {
  return value.replace(
    /(\\*)\$\{([^}?]+)(\?)?\}/g,
    (whole, slashes: string, name: string, optional?: string) => {
      if (slashes.length % 2 === 1) return whole.slice(1);
      const found = env[name];
      if (found === undefined) {
        if (optional === '?') return slashes;
        throw new RegistryError(`${file}: ${key} uses the environment variable ${name}, which is not set`, {
          subject: `${file}:${key}`,
        });
      }
      return slashes + found;
    },
  );
}

function normalisePrefix(prefix: string): string {
  const slash = prefix.indexOf('/', 2);
  const host = (slash === -1 ? prefix.slice(2) : prefix.slice(2, slash)).toLowerCase();
  const rest = slash === -1 ? '/' : prefix.slice(slash);
  return `//${host}${rest.endsWith('/') ? rest : `${rest}/`}`;
}

function withSlash(url: string, key: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RegistryError(`npm configuration: ${key} is not a URL`, { subject: key });
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new RegistryError(`npm configuration: ${key} must be an http or https URL`, { subject: key });
  }
  const s = u.toString();
  return s.endsWith('/') ? s : `${s}/`;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}
