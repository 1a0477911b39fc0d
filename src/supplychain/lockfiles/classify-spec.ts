/**
 * Tells where a dependency comes from, given what a lockfile or package.json says about it: a version range,
 * a tarball URL, a git URL, a `file:`/`link:`/`workspace:` path or a yarn berry `patch:` descriptor.
 */
import type { DependencySourceKind } from '../npm-types.js';

/** Registry hosts whose tarball URLs are registry downloads even without the `/-/name-1.2.3.tgz` shape. */
const REGISTRY_HOSTS = new Set(['registry.npmjs.org', 'registry.yarnpkg.com', 'registry.npmjs.com']);

/** Hosts that serve git repositories as tarballs (what yarn and pnpm resolve `github:` specs to). */
const GIT_TARBALL_HOSTS = new Set(['codeload.github.com']);

const GIT_PREFIXES = ['git+ssh://', 'git+https://', 'git+http://', 'git+file://', 'git://', 'ssh://'];
const GIT_HOSTED_PREFIXES = ['github:', 'gitlab:', 'bitbucket:', 'gist:'];

/** `user/repo`, `user/repo#ref`: npm's GitHub shorthand. */
const GITHUB_SHORTHAND = /^[A-Za-z0-9][\w.-]*\/[\w.-]+(#.*)?$/;
/** `git@github.com:user/repo.git`: scp-like ssh address. */
const SCP_LIKE = /^[\w.-]+@[\w.-]+:[^/\\]/;
/** Registry tarball path: `/-/name-1.2.3.tgz` (scoped: `/@s/n/-/n-1.2.3.tgz`). */
const REGISTRY_TARBALL_PATH = /\/-\/[^/]+-\d+\.\d+\.\d+[^/]*\.tgz$/;

/**
 * Classifies a dependency specifier or resolved location.
 *
 * Registry: version ranges, dist-tags, `npm:` aliases, tarball URLs on the public registries or shaped like
 * `…/-/name-1.2.3.tgz`, and yarn `patch:` descriptors of a registry package. Git: `git+ssh://`, `git+https://`,
 * `git://`, `github:user/repo`, `user/repo#ref`, `https://…/repo.git` and codeload.github.com tarballs.
 * Other http(s) URLs are `url`. `file:` and bare paths are `file`; `link:` and `portal:` are `link`;
 * `workspace:` is `workspace`.
 */
export function classifySpec(spec: string): DependencySourceKind {
  return classify(spec, 0);
}

/** Patches of patches are legal but rare; past this depth the source is unknown and reported as `url` (not trusted). */
const MAX_PATCH_DEPTH = 8;

function classify(spec: string, depth: number): DependencySourceKind {
  const s = spec.trim();
  const lower = s.toLowerCase();
  if (lower.startsWith('workspace:')) return 'workspace';
  if (lower.startsWith('link:') || lower.startsWith('portal:')) return 'link';
  if (lower.startsWith('file:')) return 'file';
  if (lower.startsWith('patch:')) return classifyPatch(s.slice('patch:'.length), depth);
  if (lower.startsWith('npm:')) return 'registry';
  if (GIT_PREFIXES.some((p) => lower.startsWith(p)) || GIT_HOSTED_PREFIXES.some((p) => lower.startsWith(p))) {
    return 'git';
  }
  if (lower.startsWith('http://') || lower.startsWith('https://')) return classifyHttp(s);
  if (s.startsWith('./') || s.startsWith('../') || s.startsWith('/') || s.startsWith('~/') || s === '.') {
    return 'file';
  }
  if (SCP_LIKE.test(s)) return 'git';
  if (!s.startsWith('@') && GITHUB_SHORTHAND.test(s)) return 'git';
  return 'registry';
}

function classifyHttp(url: string): DependencySourceKind {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'url';
  }
  const host = parsed.hostname.toLowerCase();
  const path = parsed.pathname;
  if (GIT_TARBALL_HOSTS.has(host)) return 'git';
  if (path.endsWith('.git')) return 'git';
  if (REGISTRY_HOSTS.has(host) || REGISTRY_TARBALL_PATH.test(path)) return 'registry';
  return 'url';
}

/** `patch:name@<url-encoded source>#patchfile::params`: the kind of the patched source. */
function classifyPatch(rest: string, depth: number): DependencySourceKind {
  if (depth >= MAX_PATCH_DEPTH) return 'url';
  const hash = rest.indexOf('#');
  const descriptor = hash === -1 ? rest : rest.slice(0, hash);
  let decoded = descriptor;
  try {
    decoded = decodeURIComponent(descriptor);
  } catch {
    // Keep the raw descriptor: a malformed escape still names its protocol.
  }
  const at = decoded.indexOf('@', decoded.startsWith('@') ? 1 : 0);
  const inner = at === -1 ? decoded : decoded.slice(at + 1);
  return classify(inner, depth + 1);
}
