/**
 * A small npm registry for the gate's end-to-end tests: serves packuments and tarballs built in the test,
 * so `keyward npm check` and `keyward npm install` (and the real npm behind it) run against it offline.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeTarball } from '../../src/supplychain/sources/tarball-test-support.js';

/** A package version the registry serves: its package.json and its other files. */
export interface FakeVersion {
  manifest: Record<string, unknown> & { name: string; version: string };
  files: Record<string, string>;
}

/** The running registry. */
export interface FakeRegistry {
  url: string;
  /** Request paths and headers seen, in order. */
  requests: { path: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

/** Starts a registry on a free port serving `versions`. */
export async function startFakeRegistry(versions: FakeVersion[]): Promise<FakeRegistry> {
  const tarballs = new Map<string, Buffer>();
  const packuments = new Map<string, { versions: Record<string, unknown>; latest: string }>();
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  for (const v of versions) {
    const bytes = await makeTarball([
      { path: 'package/package.json', content: JSON.stringify(v.manifest, null, 2) },
      ...Object.entries(v.files).map(([path, content]) => ({ path: `package/${path}`, content })),
    ]);
    const base = v.manifest.name.split('/').pop()!;
    const tarPath = `/${v.manifest.name}/-/${base}-${v.manifest.version}.tgz`;
    tarballs.set(tarPath, bytes);
    const doc = packuments.get(v.manifest.name) ?? { versions: {}, latest: v.manifest.version };
    doc.versions[v.manifest.version] = {
      ...v.manifest,
      dist: {
        tarball: `${url.slice(0, -1)}${tarPath}`,
        integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
        shasum: createHash('sha1').update(bytes).digest('hex'),
      },
    };
    doc.latest = v.manifest.version;
    packuments.set(v.manifest.name, doc);
  }
  const requests: FakeRegistry['requests'] = [];
  server.on('request', (req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    requests.push({ path, headers: req.headers });
    const tar = tarballs.get(path);
    if (tar) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': tar.length });
      res.end(tar);
      return;
    }
    const doc = packuments.get(path.slice(1));
    if (doc) {
      const body = JSON.stringify({
        name: path.slice(1),
        'dist-tags': { latest: doc.latest },
        versions: doc.versions,
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":"Not found"}');
  });
  return {
    url,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
