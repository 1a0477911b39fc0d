import { createHash } from 'node:crypto';
import semver from 'semver';
import { fetch as undiciFetch, type Dispatcher } from 'undici';
import { z } from 'zod';
import type { PackageContents } from '../npm-types.js';
import { loadNpmConfig, type NpmConfig, type NpmConfigSources } from './npmrc-config.js';
import { RegistryError, displayUrl } from './registry-errors.js';
import { readTarball } from './tarball-reader.js';
import type { ArchiveLimits } from './archive-limits.js';

/** The part of a fetch response the client uses; undici's and the global `fetch` both fit. */
export interface FetchResponse {
  status: number;
  headers: { get(name: string): string | null };
  body: AsyncIterable<Uint8Array> | null;
}

/** A fetch function the client can be given instead of undici's (tests, proxies). */
export type FetchLike = (
  url: string,
  init: { method: 'GET'; headers: Record<string, string>; redirect: 'manual'; signal: AbortSignal },
) => Promise<FetchResponse>;

/** Options of {@link createRegistryClient}. */
export interface RegistryClientOptions extends NpmConfigSources {
  /** A fetch function, or an undici Dispatcher used with undici's fetch; undici's global dispatcher otherwise. */
  fetch?: FetchLike | Dispatcher;
  /** Per request, body included; default 30,000. */
  timeoutMs?: number;
  /** Largest compressed tarball downloaded; default 64 MiB. */
  maxTarballBytes?: number;
  /** Limits applied when unpacking fetched tarballs. */
  limits?: Partial<ArchiveLimits>;
}

/** A packument (registry document of one package), checked only in the fields the client uses. */
export type Packument = z.infer<typeof PackumentSchema>;

/** What {@link RegistryClient.fetchTarball} returns: the contents and the version entry as published. */
export interface FetchedTarball {
  contents: PackageContents;
  /** The packument's entry for this version (the manifest as published), to compare with the tarball's. */
  published: Record<string, unknown>;
  tarballUrl: string;
  /** The SRI string verified (`sha512-…`, or `sha1-…` from `dist.shasum`), or null when the registry gave none. */
  integrity: string | null;
}

const PackumentSchema = z.looseObject({
  name: z.string(),
  'dist-tags': z.record(z.string(), z.string()).default({}),
  versions: z.record(z.string(), z.unknown()).default({}),
});

const VersionSchema = z.looseObject({
  dist: z.looseObject({
    tarball: z.string(),
    integrity: z.string().optional(),
    shasum: z.string().optional(),
  }),
});

const NAME_RE = /^(?:@[a-z0-9~][a-z0-9._~-]*\/)?[a-z0-9._~-]+$/i;
const MAX_PACKUMENT_BYTES = 256 * 1024 * 1024;
const MAX_REDIRECTS = 5;
const USER_AGENT = 'keyward-npm-gate';

/** The registry client's methods. */
export type RegistryClient = ReturnType<typeof createRegistryClient>;

/**
 * Creates an npm registry client configured like npm (.npmrc files, scope registries, `_authToken` per
 * registry host and path). Tokens go only to URLs under their `//host/path/` prefix, redirects included, and
 * never appear in errors or return values. Nothing fetched is ever run.
 *
 * @example
 * const registry = createRegistryClient({ cwd: process.cwd(), home: os.homedir(), env: process.env });
 * const version = await registry.resolve('left-pad', '^1.3.0');
 * const { contents, published } = await registry.fetchTarball('left-pad', version);
 */
export function createRegistryClient(opts: RegistryClientOptions) {
  const config: NpmConfig = loadNpmConfig(opts);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const maxTarballBytes = opts.maxTarballBytes ?? 64 * 1024 * 1024;
  const doFetch = toFetch(opts.fetch);
  const packuments = new Map<string, Promise<Packument>>();

  /** GETs a URL following redirects by hand, so each hop gets only its own registry's token. */
  async function get(
    url: string,
    subject: string,
    accept: string,
    maxBytes: number,
  ): Promise<Uint8Array | 404> {
    const signal = AbortSignal.timeout(timeoutMs);
    let current = url;
    try {
      for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
        const headers: Record<string, string> = { accept, 'user-agent': USER_AGENT };
        const token = config.tokenFor(current);
        if (token !== null) headers['authorization'] = `Bearer ${token}`;
        const res = await doFetch(current, { method: 'GET', headers, redirect: 'manual', signal });
        const location = res.headers.get('location');
        if (res.status >= 300 && res.status < 400 && location !== null) {
          await discard(res);
          current = new URL(location, current).toString();
          if (!/^https?:$/.test(new URL(current).protocol)) {
            throw new RegistryError(`${displayUrl(url)} redirected to a non-HTTP URL (${subject})`, {
              subject,
            });
          }
          continue;
        }
        if (res.status === 404) {
          await discard(res);
          return 404;
        }
        if (res.status === 401 || res.status === 403) {
          await discard(res);
          const hint =
            token === null
              ? 'no token for it is configured in .npmrc'
              : 'check the token configured for it in .npmrc';
          throw new RegistryError(
            `${displayUrl(current)} refused access (HTTP ${res.status}) for ${subject}; ${hint}`,
            {
              subject,
            },
          );
        }
        if (res.status !== 200) {
          await discard(res);
          throw new RegistryError(`${displayUrl(current)} answered HTTP ${res.status} for ${subject}`, {
            subject,
          });
        }
        return await readCapped(res, maxBytes, current, subject);
      }
      throw new RegistryError(`${displayUrl(url)} redirected more than ${MAX_REDIRECTS} times (${subject})`, {
        subject,
      });
    } catch (err) {
      if (err instanceof RegistryError) throw err;
      if (signal.aborted) {
        throw new RegistryError(`${displayUrl(current)} did not answer within ${timeoutMs} ms (${subject})`, {
          subject,
        });
      }
      throw new RegistryError(
        `could not reach ${displayUrl(current)} for ${subject} (${networkReason(err)})`,
        {
          subject,
          cause: err,
        },
      );
    }
  }

  function packumentUrl(name: string): string {
    if (!NAME_RE.test(name) || name.length > 214) {
      throw new RegistryError(`${JSON.stringify(name)} is not a valid npm package name`, { subject: name });
    }
    // The registry wants the scope's slash escaped: @scope%2fname.
    return config.registryFor(name) + name.replace('/', '%2f');
  }

  async function loadPackument(name: string): Promise<Packument> {
    const url = packumentUrl(name);
    const registry = displayUrl(config.registryFor(name));
    const bytes = await get(url, name, 'application/json', MAX_PACKUMENT_BYTES);
    if (bytes === 404) throw new RegistryError(`package ${name} not found on ${registry}`, { subject: name });
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(bytes).toString('utf8'));
    } catch {
      throw new RegistryError(`${registry} sent a document for ${name} that is not JSON`, { subject: name });
    }
    const parsed = PackumentSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue === undefined ? '' : ` (${issue.path.join('.') || 'document'}: ${issue.message})`;
      throw new RegistryError(`${registry} sent a malformed document for ${name}${where}`, { subject: name });
    }
    return parsed.data;
  }

  /** The registry document of a package (fetched once per client). */
  function packument(name: string): Promise<Packument> {
    let pending = packuments.get(name);
    if (pending === undefined) {
      pending = loadPackument(name);
      packuments.set(name, pending);
      pending.catch(() => packuments.delete(name));
    }
    return pending;
  }

  /** The exact version a dist-tag, exact version or semver range picks (npm's rule: `latest` if it satisfies). */
  async function resolve(name: string, spec: string): Promise<string> {
    const doc = await packument(name);
    const registry = displayUrl(config.registryFor(name));
    const wanted = spec.trim() === '' ? 'latest' : spec.trim();
    const versions = Object.keys(doc.versions);
    const tagged = doc['dist-tags'][wanted];
    if (tagged !== undefined) {
      if (!(tagged in doc.versions)) {
        throw new RegistryError(
          `dist-tag ${wanted} of ${name} points to ${tagged}, which ${registry} does not list`,
          {
            subject: `${name}@${wanted}`,
          },
        );
      }
      return tagged;
    }
    const exact = semver.valid(wanted, { loose: true });
    if (exact !== null) {
      const hit = versions.find((v) => semver.valid(v, { loose: true }) === exact);
      if (hit === undefined) {
        throw new RegistryError(`version ${wanted} of ${name} not found on ${registry}`, {
          subject: `${name}@${wanted}`,
        });
      }
      return hit;
    }
    if (semver.validRange(wanted, { loose: true }) === null) {
      throw new RegistryError(`${JSON.stringify(wanted)} is not a version, range or dist-tag of ${name}`, {
        subject: `${name}@${wanted}`,
      });
    }
    const latest = doc['dist-tags']['latest'];
    if (latest !== undefined && latest in doc.versions && semver.satisfies(latest, wanted, { loose: true })) {
      return latest;
    }
    const best = semver.maxSatisfying(versions, wanted, { loose: true });
    if (best === null) {
      throw new RegistryError(`no version of ${name} on ${registry} matches ${wanted}`, {
        subject: `${name}@${wanted}`,
      });
    }
    return best;
  }

  /** Downloads, verifies (integrity, else shasum) and unpacks one published version, without running it. */
  async function fetchTarball(name: string, version: string): Promise<FetchedTarball> {
    const doc = await packument(name);
    const subject = `${name}@${version}`;
    const registry = displayUrl(config.registryFor(name));
    const entry = doc.versions[version];
    if (entry === undefined)
      throw new RegistryError(`version ${version} of ${name} not found on ${registry}`, { subject });
    const checked = VersionSchema.safeParse(entry);
    if (!checked.success) {
      throw new RegistryError(`${registry} lists ${subject} without a dist.tarball URL`, { subject });
    }
    const { dist } = checked.data;
    let tarball: URL;
    try {
      tarball = new URL(dist.tarball);
    } catch {
      throw new RegistryError(`${registry} lists ${subject} with an invalid tarball URL`, { subject });
    }
    if (tarball.protocol !== 'https:' && tarball.protocol !== 'http:') {
      throw new RegistryError(`${registry} lists ${subject} with a non-HTTP tarball URL`, { subject });
    }
    const bytes = await get(tarball.toString(), subject, 'application/octet-stream', maxTarballBytes);
    if (bytes === 404)
      throw new RegistryError(`tarball of ${subject} not found at ${displayUrl(tarball)}`, { subject });
    const integrity = verifyIntegrity(bytes, dist.integrity, dist.shasum, subject, tarball);
    const location = publicUrl(tarball);
    const contents = await readTarball(bytes, { location, ...(opts.limits ? { limits: opts.limits } : {}) });
    const notes = [...contents.notes];
    if (contents.name !== name || contents.version !== version) {
      notes.push(`the tarball's package.json says ${contents.name}@${contents.version}, not ${subject}`);
    }
    if (integrity === null)
      notes.push(`the registry gave no integrity or shasum for ${subject}; the tarball was not verified`);
    return {
      contents: { ...contents, origin: { kind: 'registry', location }, notes },
      published: entry as Record<string, unknown>,
      tarballUrl: location,
      integrity,
    };
  }

  return {
    /** The registry a package is fetched from, without any user:password (tokens are never exposed). */
    registryFor: (name: string): string => displayUrl(config.registryFor(name)),
    packument,
    resolve,
    fetchTarball,
  };
}

/** Checks bytes against SRI `integrity` (strongest algorithm given) or hex sha1 `shasum`; returns what was verified. */
function verifyIntegrity(
  bytes: Uint8Array,
  integrity: string | undefined,
  shasum: string | undefined,
  subject: string,
  url: URL,
): string | null {
  const strength = ['sha512', 'sha384', 'sha256', 'sha1'];
  const hashes = (integrity ?? '')
    .split(/\s+/)
    .map((part) => /^(sha512|sha384|sha256|sha1)-([A-Za-z0-9+/=]+)(?:\?.*)?$/.exec(part))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ algo: m[1]!, digest: m[2]! }));
  if (hashes.length > 0) {
    const algo = strength.find((a) => hashes.some((h) => h.algo === a))!;
    const actual = createHash(algo).update(bytes).digest('base64');
    if (!hashes.some((h) => h.algo === algo && h.digest === actual)) {
      throw new RegistryError(
        `tarball of ${subject} from ${displayUrl(url)} does not match its published ${algo} integrity; it was not unpacked`,
        { subject },
      );
    }
    return integrity!.trim();
  }
  if (shasum !== undefined && /^[0-9a-f]{40}$/i.test(shasum)) {
    const actual = createHash('sha1').update(bytes).digest('hex');
    if (actual !== shasum.toLowerCase()) {
      throw new RegistryError(
        `tarball of ${subject} from ${displayUrl(url)} does not match its published sha1 shasum; it was not unpacked`,
        { subject },
      );
    }
    return `sha1-${Buffer.from(actual, 'hex').toString('base64')}`;
  }
  return null;
}

function toFetch(given: FetchLike | Dispatcher | undefined): FetchLike {
  if (typeof given === 'function') return given;
  return async (url, init) => {
    const res = await undiciFetch(url, given === undefined ? init : { ...init, dispatcher: given });
    return { status: res.status, headers: res.headers, body: res.body };
  };
}

async function readCapped(
  res: FetchResponse,
  maxBytes: number,
  url: string,
  subject: string,
): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await discard(res);
    throw new RegistryError(
      `${displayUrl(url)} is ${declared} bytes, above the limit of ${maxBytes} (${subject})`,
      {
        subject,
      },
    );
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (res.body !== null) {
    for await (const chunk of res.body) {
      total += chunk.byteLength;
      // Leaving the loop cancels the body stream, so an oversized download stops here.
      if (total > maxBytes) {
        throw new RegistryError(`${displayUrl(url)} is more than ${maxBytes} bytes (${subject})`, {
          subject,
        });
      }
      chunks.push(chunk);
    }
  }
  return Buffer.concat(chunks);
}

async function discard(res: FetchResponse): Promise<void> {
  if (res.body === null) return;
  try {
    for await (const _chunk of res.body) break;
  } catch {
    // The body of a response we are not using does not matter.
  }
}

/** The URL without user:password, for return values and `origin.location`. */
function publicUrl(url: URL): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString();
}

function networkReason(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string') return code;
  return cause instanceof Error ? cause.message : 'network error';
}
