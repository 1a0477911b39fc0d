import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson } from '../core/canonical-json.js';
import { generateSigningKey, publicKeyPem, type SigningKeyPair } from './dataset-keys.js';
import { verifyDataset } from './dataset-verify.js';
import { pae, signEnvelope } from './dsse.js';
import { buildManifest, rootDigest, toStatement } from './manifest.js';
import { envelopeText, signManifest } from './manifest-sign.js';
import type { DatasetStatement } from './manifest-types.js';

let dir: string;
let signer: SigningKeyPair;
let envelope: string;
let statement: DatasetStatement;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kw-verify-'));
  mkdirSync(join(dir, 'data', 'train'), { recursive: true });
  writeFileSync(join(dir, 'data', 'train', 'a.csv'), 'id,text\n1,hello\n');
  writeFileSync(join(dir, 'data', 'train', 'b.csv'), 'id,text\n2,world\n');
  writeFileSync(join(dir, 'data', 'README.md'), '# data\n');
  signer = generateSigningKey();
  statement = toStatement(
    await buildManifest(join(dir, 'data'), { name: 'demo', supplier: 'ACME', license: 'MIT' }),
  );
  envelope = envelopeText(signManifest(statement, signer.privateKey));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const verify = (
  text = envelope,
  trust: Array<string | SigningKeyPair['publicKey']> = [publicKeyPem(signer.publicKey)],
) => verifyDataset(join(dir, 'data'), text, { trust });
const clean = { problems: [], added: [], missing: [], modified: [], renamed: [] };

/** A manifest edited and signed again with `key` (a forger holding a trusted key, or an untrusted one). */
function resign(edit: (s: DatasetStatement) => void, key = signer.privateKey): string {
  const s = structuredClone(statement);
  edit(s);
  return envelopeText(signEnvelope('application/vnd.in-toto+json', Buffer.from(canonicalJson(s)), key));
}

describe('verifyDataset', () => {
  it('accepts the untouched dataset and names the signer', async () => {
    const r = await verify();
    expect(r).toMatchObject({ ok: true, signer: signer.keyid, ...clean });
    expect(r.statement?.predicate.supplier).toBe('ACME');
  });

  it('produces an envelope that plain openssl verifies over the PAE bytes', () => {
    const env = JSON.parse(envelope) as {
      payloadType: string;
      payload: string;
      signatures: Array<{ sig: string }>;
    };
    writeFileSync(join(dir, 'pub.pem'), publicKeyPem(signer.publicKey));
    writeFileSync(join(dir, 'pae.bin'), pae(env.payloadType, Buffer.from(env.payload, 'base64')));
    writeFileSync(join(dir, 'sig.bin'), Buffer.from(env.signatures[0]!.sig, 'base64'));
    const out = execFileSync(
      'openssl',
      [
        'pkeyutl',
        '-verify',
        '-pubin',
        '-inkey',
        'pub.pem',
        '-rawin',
        '-in',
        'pae.bin',
        '-sigfile',
        'sig.bin',
      ],
      { cwd: dir, encoding: 'utf8' },
    );
    expect(out.trim()).toBe('Signature Verified Successfully');
  });

  it('reports one byte changed as modified', async () => {
    writeFileSync(join(dir, 'data', 'train', 'a.csv'), 'id,text\n1,hellp\n');
    expect(await verify()).toMatchObject({
      ok: false,
      signer: signer.keyid,
      ...clean,
      modified: ['train/a.csv'],
    });
  });

  it('reports a file grown by a byte as modified', async () => {
    appendFileSync(join(dir, 'data', 'README.md'), 'x');
    expect(await verify()).toMatchObject({ ok: false, ...clean, modified: ['README.md'] });
  });

  it('reports an added and a removed file', async () => {
    writeFileSync(join(dir, 'data', 'train', 'c.csv'), 'id,text\n3,new\n');
    rmSync(join(dir, 'data', 'train', 'b.csv'));
    expect(await verify()).toMatchObject({
      ok: false,
      ...clean,
      added: ['train/c.csv'],
      missing: ['train/b.csv'],
    });
  });

  it('reports a rename as such', async () => {
    renameSync(join(dir, 'data', 'train', 'a.csv'), join(dir, 'data', 'a-moved.csv'));
    expect(await verify()).toMatchObject({
      ok: false,
      ...clean,
      renamed: [{ from: 'train/a.csv', to: 'a-moved.csv' }],
    });
  });

  it('refuses a payload edited without signing again, before reading the directory', async () => {
    const env = JSON.parse(envelope) as { payload: string };
    const forged = Buffer.from(env.payload, 'base64')
      .toString()
      .replace('"supplier":"ACME"', '"supplier":"EVIL"');
    const text = JSON.stringify({ ...JSON.parse(envelope), payload: Buffer.from(forged).toString('base64') });
    rmSync(join(dir, 'data'), { recursive: true });
    expect(await verify(text)).toEqual({
      ok: false,
      signer: null,
      ...clean,
      problems: [
        {
          path: 'signatures[0]',
          message: `signature by trusted key ${signer.keyid} does not verify: the payload or the signature was changed after signing`,
        },
      ],
      statement: null,
    });
  });

  it('refuses a manifest signed by a key that is not trusted, naming its keyid', async () => {
    const stranger = generateSigningKey();
    const text = envelopeText(signManifest(statement, stranger.privateKey));
    const r = await verify(text);
    expect(r.ok).toBe(false);
    expect(r.signer).toBeNull();
    expect(r.problems).toEqual([
      {
        path: 'signatures[0]',
        message: `signed by key ${stranger.keyid}, which is not in the trust list (or the payload was changed after signing)`,
      },
    ]);
    expect(await verify(envelope, [])).toMatchObject({
      ok: false,
      problems: [{ path: 'trust', message: 'no trusted key was given: nothing can be accepted' }],
    });
  });

  it('throws a clear error for a truncated envelope', async () => {
    await expect(verify(envelope.slice(0, envelope.length / 2))).rejects.toThrow(
      /^envelope is not valid JSON \(truncated or edited\?\)/,
    );
  });

  it('refuses a wrong payload type', async () => {
    const text = envelopeText(
      signEnvelope('text/plain', Buffer.from(canonicalJson(statement)), signer.privateKey),
    );
    expect((await verify(text)).problems).toEqual([
      { path: 'payloadType', message: 'is "text/plain", expected application/vnd.in-toto+json' },
    ]);
  });

  it.each([
    ['../outside.txt', 'has a ".." component'],
    ['/etc/passwd', 'is absolute'],
    ['train\\a.csv', 'contains a backslash'],
    ['a\u0000b', 'contains a control character (NUL, newline, ...)'],
  ])('refuses an escaping path %j in a forged, re-signed manifest', async (path, why) => {
    const text = resign((s) => {
      s.predicate.files[0]!.path = path;
      s.predicate.rootDigest = rootDigest(s.predicate.files);
      s.subject[0]!.digest.sha256 = s.predicate.rootDigest;
    });
    const r = await verify(text);
    expect(r.ok).toBe(false);
    expect(r.signer).toBe(signer.keyid);
    expect(r.problems).toEqual([
      { path: 'payload.predicate.files.0.path', message: `path ${JSON.stringify(path)} ${why}` },
    ]);
    expect(r.statement).toBeNull();
  });

  it('refuses a signed manifest whose root digest does not match its file list', async () => {
    const text = resign((s) => {
      s.predicate.files[0]!.sha256 = '0'.repeat(64);
    });
    const r = await verify(text);
    expect(r.problems).toEqual([
      {
        path: 'payload.predicate.rootDigest',
        message: expect.stringMatching(
          /^does not match the file list \(which hashes to [0-9a-f]{64}\)$/,
        ) as unknown as string,
      },
    ]);
  });

  it('refuses a dataset holding a symbolic link pointing outside', async () => {
    symlinkSync('/etc/hostname', join(dir, 'data', 'train', 'host'));
    expect(await verify()).toMatchObject({
      ok: false,
      ...clean,
      problems: [{ path: 'train/host', message: 'symbolic link pointing outside the dataset' }],
    });
  });
});
