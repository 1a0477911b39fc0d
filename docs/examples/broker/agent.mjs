#!/usr/bin/env node
// A minimal agent for the walk-through in docs/broker.md: gets a token from Keyward with oauth4webapi and
// prints the token response and the token's claims as one JSON document.
//
//   KEYWARD_URL=http://127.0.0.1:7300 CLIENT_ID=kwc_… CLIENT_SECRET=kwcs_… node agent.mjs
//
// Environment:
//   KEYWARD_URL      the broker's issuer URL (default http://127.0.0.1:7300); its RFC 8414 metadata is read
//   CLIENT_ID        the agent's client_id (kwc_…)
//   CLIENT_SECRET    its client secret (client_secret_basic), or instead
//   AGENT_KEY_FILE   its private key as a JWK file (private_key_jwt; see make-agent-key.mjs)
//   SCOPE            the scopes the task needs, space-separated (default repo:read)
//   RESOURCE         the API the token is for (default https://api.github.com)
//   TASK             the task id copied into the token (default T-42)
//   DPOP=1           bind the token to a fresh key pair (RFC 9449)
// A scope that needs a person's approval is waited for: the agent polls until someone decides.
// Outside this repository: npm install oauth4webapi jose
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { URLSearchParams } from 'node:url';
import { decodeJwt, importJWK } from 'jose';
import * as oauth from 'oauth4webapi';

const env = process.env;
const issuer = new URL(env.KEYWARD_URL ?? 'http://127.0.0.1:7300');
const client = { client_id: required('CLIENT_ID') };
// Plain http is allowed here for a broker on this machine only; use https everywhere else.
const http = { [oauth.allowInsecureRequests]: issuer.protocol === 'http:' };

const as = await oauth.processDiscoveryResponse(
  issuer,
  await oauth.discoveryRequest(issuer, { ...http, algorithm: 'oauth2' }),
);
const clientAuth = await clientAuthentication();
const dpop = env.DPOP === '1' ? oauth.DPoP(client, await oauth.generateKeyPair('EdDSA')) : undefined;
const options = { ...http, ...(dpop ? { DPoP: dpop } : {}) };

const params = new URLSearchParams({
  scope: env.SCOPE ?? 'repo:read',
  resource: env.RESOURCE ?? 'https://api.github.com',
  task: env.TASK ?? 'T-42',
});

try {
  const token = await getToken();
  console.log(JSON.stringify({ token, claims: decodeJwt(token.access_token) }, null, 2));
} catch (err) {
  if (!(err instanceof oauth.ResponseBodyError)) throw err;
  console.error(`agent: ${err.error}: ${err.error_description}`);
  process.exitCode = 1;
}

/** client_credentials; when a person must approve, polls with the CIBA grant until they decide. */
async function getToken() {
  try {
    return await retryOnNonce(() =>
      oauth.clientCredentialsGrantRequest(as, client, clientAuth, params, options),
    ).then((response) => oauth.processClientCredentialsResponse(as, client, response));
  } catch (err) {
    if (!(err instanceof oauth.ResponseBodyError) || err.error !== 'authorization_pending') throw err;
    return waitForApproval(err.cause.auth_req_id, err.cause.interval);
  }
}

/** Polls with grant_type=urn:openid:params:grant-type:ciba until the approval is decided. */
async function waitForApproval(authReqId, interval) {
  console.error(
    `agent: waiting for a person to approve ${authReqId} (keyward approvals approve ${authReqId})`,
  );
  for (;;) {
    await sleep(interval * 1000);
    try {
      const response = await retryOnNonce(() =>
        oauth.genericTokenEndpointRequest(
          as,
          client,
          clientAuth,
          'urn:openid:params:grant-type:ciba',
          { auth_req_id: authReqId },
          options,
        ),
      );
      return await oauth.processGenericTokenEndpointResponse(as, client, response);
    } catch (err) {
      if (!(err instanceof oauth.ResponseBodyError)) throw err;
      if (err.error === 'slow_down') interval = err.cause.interval ?? interval + 5;
      else if (err.error !== 'authorization_pending') throw err;
    }
  }
}

/** Repeats a request once when the broker asks for a DPoP nonce (broker.dpopNonce). */
async function retryOnNonce(request) {
  try {
    return await request();
  } catch (err) {
    if (dpop && oauth.isDPoPNonceError(err)) return request();
    throw err;
  }
}

/** client_secret_basic with CLIENT_SECRET, private_key_jwt with AGENT_KEY_FILE. */
async function clientAuthentication() {
  if (env.CLIENT_SECRET) return oauth.ClientSecretBasic(env.CLIENT_SECRET);
  const jwk = JSON.parse(
    readFileSync(required('CLIENT_SECRET or AGENT_KEY_FILE', env.AGENT_KEY_FILE), 'utf8'),
  );
  return oauth.PrivateKeyJwt({ key: await importJWK(jwk, jwk.alg), kid: jwk.kid });
}

function required(name, value = env[name]) {
  if (!value) {
    console.error(`agent: set ${name}`);
    process.exit(2);
  }
  return value;
}
