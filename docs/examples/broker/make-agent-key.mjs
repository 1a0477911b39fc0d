#!/usr/bin/env node
// Makes a key pair for an agent that logs in with private_key_jwt (RFC 7523), as in docs/broker.md.
//
//   node make-agent-key.mjs [private-key.pem]
//
// Without an argument it generates an Ed25519 key pair; with one it reads a PKCS#8 PEM private key
// (`openssl genpkey -algorithm ed25519 -out agent-key.pem`). It writes, in the current directory:
//   agent-key.private.json  the private key as a JWK (mode 0600): the agent keeps it, nobody else sees it
//   agent-jwks.json         the public key as a JWK Set: give it to `keyward agents register --jwks`
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';

const pemFile = process.argv[2];
const { privateKey, publicKey } = pemFile
  ? fromPem(readFileSync(pemFile, 'utf8'))
  : await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });

const publicJwk = await exportJWK(publicKey);
const kid = await calculateJwkThumbprint(publicJwk);
const alg = publicJwk.kty === 'OKP' ? 'EdDSA' : 'ES256';
const privateJwk = { ...(await exportJWK(privateKey)), kid, alg };

writeFileSync('agent-key.private.json', `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600 });
// No "alg" in the public key: any library's name for the algorithm finds it (Keyward takes "EdDSA" and
// "Ed25519" as one algorithm for Ed25519 keys either way; other verifiers may match alg exactly).
writeFileSync(
  'agent-jwks.json',
  `${JSON.stringify({ keys: [{ ...publicJwk, kid, use: 'sig' }] }, null, 2)}\n`,
);
console.log(`wrote agent-key.private.json (keep it secret) and agent-jwks.json (kid ${kid})`);

/** A key pair from a PKCS#8 PEM private key (Ed25519 or P-256). */
function fromPem(pem) {
  const key = createPrivateKey(pem);
  return { privateKey: key, publicKey: createPublicKey(key) };
}
