import { generateKeyPairSync, verify } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createTokenSigner, type TokenSigner } from './token-signer.js';

const ed = generateKeyPairSync('ed25519');
const ed2 = generateKeyPairSync('ed25519');

const valid = (input: string, sig: string, publicKey = ed.publicKey): boolean =>
  verify(null, Buffer.from(input), publicKey, Buffer.from(sig, 'base64url'));

describe('token signer', () => {
  let signer: TokenSigner | undefined;
  afterEach(async () => {
    await signer?.close();
    signer = undefined;
  });

  it('with 0 threads signs on the calling thread: an Ed25519 signature, base64url', async () => {
    signer = createTokenSigner({ threads: 0 });
    expect(signer.threads).toBe(0);
    const sig = await signer.sign('eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhIn0', ed.privateKey);
    expect(sig).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(valid('eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhIn0', sig)).toBe(true);
  });

  it('with worker threads signs many concurrent inputs, each with its own key, in batches', async () => {
    signer = createTokenSigner({ threads: 2, maxBatch: 50 });
    expect(signer.threads).toBe(2);
    const inputs = Array.from({ length: 700 }, (_, i) => `header.payload-${i}`);
    const sigs = await Promise.all(
      inputs.map((input, i) => signer!.sign(input, i % 2 ? ed2.privateKey : ed.privateKey)),
    );
    inputs.forEach((input, i) => {
      expect(valid(input, sigs[i]!, i % 2 ? ed2.publicKey : ed.publicKey)).toBe(true);
    });
    // A signature never belongs to another input.
    expect(valid(inputs[0]!, sigs[2]!)).toBe(false);
  });

  it('rejects a key that cannot sign, in either mode, and keeps signing afterwards', async () => {
    const x = generateKeyPairSync('x25519');
    for (const threads of [0, 1]) {
      const s = createTokenSigner({ threads });
      try {
        await expect(s.sign('a.b', x.privateKey)).rejects.toThrow();
        expect(valid('a.b', await s.sign('a.b', ed.privateKey))).toBe(true);
      } finally {
        await s.close();
      }
    }
  });

  it('after close signs inline and starts no worker', async () => {
    signer = createTokenSigner({ threads: 1 });
    expect(valid('x.y', await signer.sign('x.y', ed.privateKey))).toBe(true);
    await signer.close();
    expect(signer.threads).toBe(0);
    expect(valid('x.z', await signer.sign('x.z', ed.privateKey))).toBe(true);
  });

  it('answers every pending signature when closed while a batch is out', async () => {
    signer = createTokenSigner({ threads: 1 });
    const pending = Array.from({ length: 200 }, (_, i) => signer!.sign(`p.${i}`, ed.privateKey));
    // Let the batch leave for the worker, then close before it answers.
    await new Promise<void>((r) => setImmediate(r));
    await signer.close();
    const sigs = await Promise.all(pending);
    sigs.forEach((sig, i) => expect(valid(`p.${i}`, sig)).toBe(true));
  });
});
