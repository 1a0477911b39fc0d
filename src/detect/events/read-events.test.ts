import {
  copyFileSync,
  existsSync,
  readdirSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokenRecord, DetectEvent } from '../detect-types.js';
import { loadFieldMapping } from './mapping-adapter.js';
import { readEvents, type ReadCounters, type ReadEventsOptions } from './read-events.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kw-events-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A file in the test's temp dir. */
function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  return path;
}

/** Reads everything; returns the events, the broken reports and the counters. */
async function readAll(
  paths: string[],
  options: ReadEventsOptions = {},
): Promise<{ events: DetectEvent[]; broken: BrokenRecord[]; counters: ReadCounters }> {
  const broken: BrokenRecord[] = [];
  const stream = readEvents(paths, { ...options, onBroken: (b) => broken.push(b) });
  const events: DetectEvent[] = [];
  for await (const e of stream) events.push(e);
  return { events, broken, counters: { ...stream.counters } };
}

const CT_IDS = [1, 2, 3, 4, 5].map((n) => `a1b2c3d4-000${n}-4e5f-9a8b-00000000000${n}`);
const CT_BROKEN = {
  line: 1,
  reason: 'Records[5]: no timestamp (eventTime)',
};

describe('readEvents: CloudTrail delivery files', () => {
  it('reads the Records of a delivery file, reports the one without eventTime by record index', async () => {
    const path = fixture('cloudtrail-delivery.json');
    const { events, broken, counters } = await readAll([path]);
    expect(events.map((e) => e.id)).toEqual(CT_IDS);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(events.map((e) => e.fields['activity_name'])).toEqual([
      'AssumeRole',
      'GetSecretValue',
      'CreateAccessKey',
      'ConsoleLogin',
      'AttachUserPolicy',
    ]);
    expect(
      events.every((e) => e.source.adapter === 'cloudtrail' && e.source.file === path && e.source.line === 1),
    ).toBe(true);
    expect(events[0]!.logsource).toEqual({ product: 'aws', service: 'cloudtrail' });
    expect(broken).toEqual([{ file: path, ...CT_BROKEN }]);
    expect(counters).toEqual({
      files: 1,
      events: 5,
      passedOver: 0,
      broken: 1,
      skippedFiles: 0,
      ignoredFiles: 0,
      byAdapter: { keyward: 0, cloudtrail: 5, github: 0, kubernetes: 0, ndjson: 0 },
    });
  });

  it('reads the same file gzipped, whatever its name (gzip is told by its magic bytes)', async () => {
    const gz = gzipSync(readFileSync(fixture('cloudtrail-delivery.json')));
    const named = file('ct/111122223333_CloudTrail_us-east-1_20260510T0905Z_abc.json.gz', gz);
    const unnamed = file('ct/no-extension', gz);
    const { events, broken } = await readAll([named, unnamed]);
    expect(events.map((e) => e.id)).toEqual([...CT_IDS, ...CT_IDS]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(broken).toEqual([
      { file: named, ...CT_BROKEN },
      { file: unnamed, ...CT_BROKEN },
    ]);
  });

  it('reads a pretty-printed delivery file (a document over several lines)', async () => {
    const doc = JSON.parse(readFileSync(fixture('cloudtrail-delivery.json'), 'utf8')) as unknown;
    const path = file('ct-pretty.json', JSON.stringify(doc, null, 2));
    const { events, broken } = await readAll([path]);
    expect(events.map((e) => e.id)).toEqual(CT_IDS);
    expect(broken).toEqual([{ file: path, ...CT_BROKEN }]);
  });

  it('a truncated gzip: the records before the cut, then the gzip error at the line it stopped', async () => {
    const lines = readFileSync(fixture('github-audit.ndjson'));
    const gz = gzipSync(lines);
    const path = file('truncated.ndjson.gz', gz.subarray(0, gz.length - 12));
    const { events, broken, counters } = await readAll([path]);
    // The last line's end is in the lost bytes: the first two lines are whole.
    expect(events.map((e) => e.fields['activity_name'])).toEqual([
      'personal_access_token.access_granted',
      'repo.download_zip',
    ]);
    expect(broken).toEqual([
      { file: path, line: 3, reason: 'gzip: unexpected end of file (the file is truncated)' },
    ]);
    expect(counters.skippedFiles).toBe(0);
  });

  it('a gzip cut inside its header is skipped as a whole', async () => {
    const gz = gzipSync(readFileSync(fixture('github-audit.ndjson')));
    const path = file('cut.gz', gz.subarray(0, 8));
    const { events, broken, counters } = await readAll([path]);
    expect(events).toEqual([]);
    expect(broken).toEqual([
      { file: path, line: 1, reason: 'gzip: unexpected end of file (the file is truncated)' },
    ]);
    expect(counters.skippedFiles).toBe(1);
  });
});

describe('readEvents: NDJSON sources and broken records', () => {
  it('GitHub audit NDJSON with bad lines: each reported with file:line, the rest read', async () => {
    const path = fixture('github-broken.ndjson');
    const { events, broken, counters } = await readAll([path]);
    expect(events.map((e) => [e.id, e.source.line, e.seq])).toEqual([
      ['rGwPDBp1Mu4GZ2dV5T3Xbw', 1, 1],
      ['p0Q9nM8lK7jH6gF5dS4aZw', 8, 2],
    ]);
    expect(broken).toEqual([
      {
        file: path,
        line: 2,
        reason: "not JSON: Expected ',' or '}' after property value in JSON at position 38",
      },
      { file: path, line: 3, reason: 'no timestamp (@timestamp or created_at)' },
      { file: path, line: 5, reason: 'not an object (string)' },
      { file: path, line: 6, reason: 'not an object (array)' },
      { file: path, line: 7, reason: 'invalid timestamp (@timestamp): "not a time"' },
    ]);
    expect(counters).toMatchObject({ files: 1, events: 2, broken: 5, skippedFiles: 0 });
  });

  it('GitHub audit as a JSON array (the export): records by index', async () => {
    const records = readFileSync(fixture('github-audit.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const { '@timestamp': _t, created_at: _c, ...noTime } = records[2]!;
    const path = file('github-export.json', JSON.stringify([records[0], noTime, records[1]], null, 2));
    const { events, broken } = await readAll([path]);
    expect(events.map((e) => [e.id, e.source.adapter, e.source.line])).toEqual([
      ['rGwPDBp1Mu4GZ2dV5T3Xbw', 'github', null],
      ['Xj3k9QbYF1vC8T2oLm0aZA', 'github', null],
    ]);
    expect(broken).toEqual([
      { file: path, line: null, reason: '[1]: no timestamp (@timestamp or created_at)' },
    ]);
  });

  it('Kubernetes and Keyward NDJSON, a directory read recursively in name order', async () => {
    const root = join(dir, 'tree');
    mkdirSync(join(root, 'b-k8s'), { recursive: true });
    mkdirSync(join(root, 'a-keyward'), { recursive: true });
    copyFileSync(fixture('k8s-audit.ndjson'), join(root, 'b-k8s', 'audit.log'));
    copyFileSync(fixture('keyward-events.ndjson'), join(root, 'a-keyward', 'events.ndjson'));
    const { events, broken, counters } = await readAll([root]);
    expect(broken).toEqual([]);
    expect(events.map((e) => [e.source.adapter, e.logsource.service, e.seq])).toEqual([
      ['keyward', 'broker', 1],
      ['keyward', 'broker', 2],
      ['keyward', 'broker', 3],
      ['keyward', 'proxy', 4],
      ['keyward', 'proxy', 5],
      ['keyward', 'inventory', 6],
      ['kubernetes', 'audit', 7],
      ['kubernetes', 'audit', 8],
      ['kubernetes', 'audit', 9],
    ]);
    expect(events[0]!.id).toBe('evt_0a1b2c3d4e5f6g7h');
    expect(events[6]!.source).toEqual({
      adapter: 'kubernetes',
      file: join(root, 'b-k8s', 'audit.log'),
      line: 1,
    });
    expect(counters.files).toBe(2);
    expect(counters.byAdapter).toEqual({ keyward: 6, cloudtrail: 0, github: 0, kubernetes: 3, ndjson: 0 });
  });

  it('an explicit format wins over detection', async () => {
    const { events, broken } = await readAll([fixture('keyward-events.ndjson')], { format: 'github' });
    expect(events).toEqual([]);
    expect(broken).toHaveLength(6);
    expect(broken[0]).toEqual({
      file: fixture('keyward-events.ndjson'),
      line: 1,
      reason: 'no timestamp (@timestamp or created_at)',
    });
  });

  it('NDJSON with a mapping file: mapped fields, translated values, ids from the id field or a hash', async () => {
    const mapping = await loadFieldMapping(fixture('okta-mapping.yaml'));
    const path = fixture('okta-system-log.ndjson');
    const { events, broken } = await readAll([path], { mapping });
    expect(broken).toEqual([]);
    expect(events.map((e) => e.id)).toEqual([
      '9a8b7c6d-0001-11ef-8000-000000000001',
      '9a8b7c6d-0002-11ef-8000-000000000002',
      expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    ]);
    expect(events[1]).toMatchObject({
      time: Date.parse('2026-05-10T09:31:00Z'),
      logsource: { product: 'okta', service: 'okta' },
      source: { adapter: 'ndjson', file: path, line: 2 },
      seq: 2,
    });
    expect(events[1]!.fields).toEqual({
      time: '2026-05-10T09:31:00.000Z',
      activity_name: 'user.authentication.auth_via_mfa',
      'actor.user.uid': '00u1abcd',
      'actor.user.name': 'alice@example.com',
      'actor.user.type': 'User',
      'src_endpoint.ip': '192.0.2.44',
      status: 'failure',
      'error.code': 'INVALID_CREDENTIALS',
    });
    // `auto`: a numeric string below 1e11 is epoch seconds.
    expect(events[2]!.time).toBe(1778405520000);
  });

  it('a file of no known format is skipped with one report', async () => {
    const path = fixture('okta-system-log.ndjson');
    const { events, broken, counters } = await readAll([path]);
    expect(events).toEqual([]);
    expect(broken).toEqual([
      {
        file: path,
        line: 1,
        reason:
          'unrecognized format: not CloudTrail, GitHub audit, Kubernetes audit or Keyward events (give a format, or a field mapping for other NDJSON)',
      },
    ]);
    expect(counters.skippedFiles).toBe(1);
  });

  it('empty, blank, binary and missing files are reported and skipped; the run goes on', async () => {
    const empty = file('bad/empty.ndjson', '');
    const blank = file('bad/blank.ndjson', '\n  \n\n');
    const binary = file(
      'bad/image.png',
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]),
    );
    const latin1 = file('bad/latin1.txt', Buffer.from([0x7b, 0x22, 0xe9, 0xe8, 0x22, 0x7d, 0x0a]));
    const missing = join(dir, 'bad', 'nope.json');
    const good = fixture('k8s-audit.ndjson');
    const { events, broken, counters } = await readAll([empty, blank, binary, latin1, missing, good]);
    expect(broken).toEqual([
      { file: empty, line: null, reason: 'empty file' },
      { file: blank, line: null, reason: 'empty file (only blank lines)' },
      { file: binary, line: null, reason: 'binary file (not text)' },
      { file: latin1, line: null, reason: 'binary file (not text)' },
      { file: missing, line: null, reason: 'cannot read: ENOENT' },
    ]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(counters).toMatchObject({ files: 5, events: 3, broken: 5, skippedFiles: 5 });
  });

  it('a line longer than the limit is reported, not read; the lines after it are', async () => {
    const lines = readFileSync(fixture('k8s-audit.ndjson'), 'utf8').trim().split('\n');
    const long = JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', pad: 'x'.repeat(5000) });
    const path = file('long.ndjson', [lines[0], long, lines[1]].join('\n'));
    const { events, broken } = await readAll([path], { maxLineBytes: 4096 });
    expect(events.map((e) => e.source.line)).toEqual([1, 3]);
    expect(broken).toEqual([{ file: path, line: 2, reason: 'line longer than 4096 bytes: not read' }]);
  });

  it('CRLF line ends and a byte order mark are read as plain lines', async () => {
    const text = readFileSync(fixture('github-audit.ndjson'), 'utf8').trim().split('\n').join('\r\n');
    const path = file('crlf.ndjson', `\uFEFF${text}\r\n`);
    const { events, broken } = await readAll([path]);
    expect(broken).toEqual([]);
    expect(events).toHaveLength(3);
  });

  it('a real line over 64 MiB (gzipped to a few KiB) is reported and the next line read', async () => {
    const huge = `{"action":"repo.create","pad":"${'x'.repeat(64 * 1024 * 1024 + 10)}"}\n`;
    const next = readFileSync(fixture('github-audit.ndjson'), 'utf8').split('\n')[0]!;
    const path = file('huge.ndjson.gz', gzipSync(Buffer.from(huge + next)));
    const { events, broken } = await readAll([path]);
    expect(broken).toEqual([{ file: path, line: 1, reason: 'line longer than 67108864 bytes: not read' }]);
    expect(events.map((e) => [e.id, e.source.line])).toEqual([['rGwPDBp1Mu4GZ2dV5T3Xbw', 2]]);
  });

  it('pages of the Keyward event API ({items, next}) give their items', async () => {
    const items = readFileSync(fixture('keyward-events.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    const page1 = { items: items.slice(0, 4), total: 6, limit: 4, offset: 40, next: 44 };
    const page2 = { items: items.slice(4), total: 6, limit: 4, offset: 44, next: null };
    const path = file('api-pages.ndjson', `${JSON.stringify(page1)}\n${JSON.stringify(page2)}\n`);
    const { events, broken } = await readAll([path]);
    expect(broken).toEqual([]);
    expect(events.map((e) => [e.id.slice(0, 8), e.source.line])).toEqual([
      ['evt_0a1b', 1],
      ['evt_1b2c', 1],
      ['evt_2c3d', 1],
      ['evt_3d4e', 1],
      ['evt_4e5f', 2],
      ['evt_5f6g', 2],
    ]);
  });

  it('CloudTrail digest files are passed over without a report; a directory linked twice is read once', async () => {
    const root = join(dir, 's3');
    file(
      's3/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/digest.json.gz',
      gzipSync(
        JSON.stringify({
          awsAccountId: '111122223333',
          digestStartTime: '2026-05-10T08:00:00Z',
          digestEndTime: '2026-05-10T09:00:00Z',
          digestPublicKeyFingerprint: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
          digestSignatureAlgorithm: 'SHA256withRSA',
          logFiles: [],
        }),
      ),
    );
    copyFileSync(
      fixture('cloudtrail-delivery.json'),
      file('s3/AWSLogs/111122223333/CloudTrail/us-east-1/a.json', ''),
    );
    symlinkSync(root, join(root, 'AWSLogs', 'loop'));
    const { events, broken, counters } = await readAll([root]);
    expect(events.map((e) => e.id)).toEqual(CT_IDS);
    expect(broken.map((b) => b.reason)).toEqual([CT_BROKEN.reason]);
    expect(counters).toMatchObject({ files: 2, ignoredFiles: 1, skippedFiles: 0 });
  });

  it('bad first lines: the format is detected from the first record that parses', async () => {
    const k8s = readFileSync(fixture('k8s-audit.ndjson'), 'utf8').trim().split('\n');
    // `{` alone opens a pretty-printed document; when the whole file is not one, its lines are NDJSON.
    const path = file('bad-start.ndjson', ['{', 'garbage', '42', ...k8s].join('\n'));
    const { events, broken } = await readAll([path]);
    expect(broken).toEqual([
      { file: path, line: 1, reason: expect.stringMatching(/^not JSON: /) as unknown },
      { file: path, line: 2, reason: expect.stringMatching(/^not JSON: /) as unknown },
      { file: path, line: 3, reason: 'not an object (number)' },
    ]);
    expect(events.map((e) => [e.source.adapter, e.source.line, e.seq])).toEqual([
      ['kubernetes', 4, 1],
      ['kubernetes', 5, 2],
      ['kubernetes', 6, 3],
    ]);
  });

  it.runIf(existsSync('/proc/self/fd'))('stopping early closes the file', async () => {
    const gz = file('early.ndjson.gz', gzipSync(readFileSync(fixture('github-audit.ndjson'))));
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const before = fds();
    for (let i = 0; i < 20; i++) {
      for await (const _e of readEvents([gz, fixture('k8s-audit.ndjson')])) break;
    }
    expect(fds()).toBeLessThanOrEqual(before);
  });

  it('firstSeq continues a numbering; a stream is read once', async () => {
    const stream = readEvents([fixture('k8s-audit.ndjson')], { firstSeq: 100 });
    const seqs: number[] = [];
    for await (const e of stream) seqs.push(e.seq);
    expect(seqs).toEqual([100, 101, 102]);
    await expect(async () => {
      for await (const _e of stream) break;
    }).rejects.toThrow('an event stream is read once');
  });

  it('refuses ndjson without a mapping, and a mapping with another format', async () => {
    const mapping = await loadFieldMapping(fixture('okta-mapping.yaml'));
    expect(() => readEvents([], { format: 'ndjson' })).toThrow('the ndjson format needs a field mapping');
    expect(() => readEvents([], { format: 'github', mapping })).toThrow(
      'a field mapping is not used by the github format',
    );
  });
});
