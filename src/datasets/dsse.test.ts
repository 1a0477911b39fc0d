import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../core/errors.js';
import { generateSigningKey, publicKeyPem } from './dataset-keys.js';
import { pae, parseEnvelope, signEnvelope, verifyEnvelope } from './dsse.js';

describe('pae', () => {
  it('encodes as protocol.md specifies (byte lengths in ASCII decimal)', () => {
    expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
    expect(pae('t', Buffer.from('\u00e9')).toString('hex')).toBe(
      Buffer.from('DSSEv1 1 t 2 \u00e9').toString('hex'),
    );
  });
});

describe('signEnvelope / verifyEnvelope', () => {
  const body = Buffer.from('{"hello":"world"}');

  it('signs with Ed25519 over PAE; plain openssl verifies the signature', () => {
    const { privateKey, publicKey, keyid } = generateSigningKey();
    const env = signEnvelope('application/vnd.in-toto+json', body, privateKey);
    expect(env.payload).toBe(body.toString('base64'));
    expect(env.signatures).toHaveLength(1);
    expect(env.signatures[0]!.keyid).toBe(keyid);
    expect(verifyEnvelope(env, [publicKey])).toEqual({ signer: keyid, problems: [] });
    const dir = mkdtempSync(join(tmpdir(), 'kw-dsse-'));
    try {
      writeFileSync(join(dir, 'pub.pem'), publicKeyPem(publicKey));
      writeFileSync(join(dir, 'pae.bin'), pae(env.payloadType, Buffer.from(env.payload, 'base64')));
      writeFileSync(join(dir, 'sig.bin'), Buffer.from(env.signatures[0]!.sig, 'base64'));
      const args = [
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
      ];
      expect(execFileSync('openssl', args, { cwd: dir, encoding: 'utf8' })).toContain(
        'Signature Verified Successfully',
      );
      writeFileSync(join(dir, 'pae.bin'), pae(env.payloadType, Buffer.from('{"hello":"World"}')));
      expect(() => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a payload changed after signing and a signer not in the trust list, naming the keyid', () => {
    const a = generateSigningKey();
    const b = generateSigningKey();
    const env = signEnvelope('x', body, a.privateKey);
    expect(
      verifyEnvelope({ ...env, payload: Buffer.from('{"hello":"w0rld"}').toString('base64') }, [a.publicKey]),
    ).toEqual({
      signer: null,
      problems: [
        {
          path: 'signatures[0]',
          message: `signature by trusted key ${a.keyid} does not verify: the payload or the signature was changed after signing`,
        },
      ],
    });
    // The payload type is signed too (PAE).
    expect(verifyEnvelope({ ...env, payloadType: 'y' }, [a.publicKey]).signer).toBeNull();
    expect(verifyEnvelope(env, [b.publicKey]).problems[0]!.message).toBe(
      `signed by key ${a.keyid}, which is not in the trust list (or the payload was changed after signing)`,
    );
    // A keyid is only a hint: a signature that verifies is accepted whatever keyid it claims.
    expect(
      verifyEnvelope({ ...env, signatures: [{ keyid: b.keyid, sig: env.signatures[0]!.sig }] }, [
        b.publicKey,
        a.publicKey,
      ]).signer,
    ).toBe(a.keyid);
  });

  it('refuses to sign with a key that is not an Ed25519 private key', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => signEnvelope('x', body, privateKey)).toThrow(
      'The signing key must be an Ed25519 private key',
    );
    expect(() => signEnvelope('x', body, generateSigningKey().publicKey)).toThrow(ValidationError);
  });
});

describe('parseEnvelope', () => {
  const env = JSON.stringify(signEnvelope('x', Buffer.from('{}'), generateSigningKey().privateKey));

  it('reads a well-formed envelope', () => {
    expect(parseEnvelope(env)).toEqual(JSON.parse(env));
  });

  it('says a truncated file is not valid JSON', () => {
    expect(() => parseEnvelope(env.slice(0, 40), 'train.dsse.json')).toThrow(
      /^train\.dsse\.json is not valid JSON \(truncated or edited\?\): /,
    );
  });

  it('names the field that breaks the envelope shape', () => {
    const e = (text: string) => {
      try {
        parseEnvelope(text);
      } catch (err) {
        return (err as ValidationError).details;
      }
      return null;
    };
    expect(e('{"payloadType":"x","payload":"e30=","signatures":[]}')).toEqual([
      { path: 'envelope.signatures', message: 'must hold at least one signature' },
    ]);
    expect(e('{"payloadType":"x","payload":"e30","signatures":[{"sig":"AA=="}]}')).toEqual([
      { path: 'envelope.payload', message: 'must be standard base64' },
    ]);
    expect(e('[1]')![0]!.path).toBe('envelope');
  });
});

describe('parseEnvelope on a large payload', () => {
  it('reads a 15 MB payload (a manifest of ~100k files) without overflowing the stack', () => {
    const body = Buffer.alloc(15e6, 'x');
    const env = signEnvelope('x', body, generateSigningKey().privateKey);
    expect(parseEnvelope(JSON.stringify(env)).payload.length).toBe(20e6);
  });
});
