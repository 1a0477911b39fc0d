/**
 * Discovery documents of the broker: OAuth 2.0 Authorization Server Metadata (RFC 8414) and Protected Resource
 * Metadata (RFC 9728), and the one list of endpoint paths the HTTP layer serves them at. Pure: the service
 * passes in the issuer and what the policies name.
 */
import { CLIENT_ASSERTION_ALGORITHMS } from './client-auth.js';
import { DPOP_ALGORITHMS } from './dpop.js';

/** Where the HTTP layer serves the broker's endpoints, relative to the issuer URL. */
export const BROKER_PATHS = {
  token: '/oauth/token',
  introspection: '/oauth/introspect',
  revocation: '/oauth/revoke',
  jwks: '/.well-known/jwks.json',
  authorizationServerMetadata: '/.well-known/oauth-authorization-server',
  protectedResourceMetadata: '/.well-known/oauth-protected-resource',
  proxy: '/proxy',
} as const;

/** The grant types the token endpoint accepts. */
export const GRANT_TYPES = {
  clientCredentials: 'client_credentials',
  tokenExchange: 'urn:ietf:params:oauth:grant-type:token-exchange',
  /** OpenID CIBA's poll grant, used to collect a token once a person approved the request. */
  ciba: 'urn:openid:params:grant-type:ciba',
} as const;

/** RFC 8693 §3 token type identifiers. */
export const TOKEN_TYPES = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
} as const;

/** Client authentication methods of the token, introspection and revocation endpoints. */
export const TOKEN_ENDPOINT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];

/** The broker's endpoint URLs for an issuer. */
export function brokerEndpoints(issuer: string): {
  token: string;
  introspection: string;
  revocation: string;
  jwks: string;
} {
  return {
    token: `${issuer}${BROKER_PATHS.token}`,
    introspection: `${issuer}${BROKER_PATHS.introspection}`,
    revocation: `${issuer}${BROKER_PATHS.revocation}`,
    jwks: `${issuer}${BROKER_PATHS.jwks}`,
  };
}

/** RFC 8414 §2 authorization server metadata. */
export interface AuthorizationServerMetadata {
  issuer: string;
  token_endpoint: string;
  jwks_uri: string;
  introspection_endpoint: string;
  revocation_endpoint: string;
  /** REQUIRED by RFC 8414 §2; empty because the broker has no authorization endpoint (no user redirects). */
  response_types_supported: string[];
  grant_types_supported: string[];
  token_endpoint_auth_methods_supported: string[];
  token_endpoint_auth_signing_alg_values_supported: string[];
  introspection_endpoint_auth_methods_supported: string[];
  introspection_endpoint_auth_signing_alg_values_supported: string[];
  revocation_endpoint_auth_methods_supported: string[];
  revocation_endpoint_auth_signing_alg_values_supported: string[];
  dpop_signing_alg_values_supported: string[];
  /** RFC 8693 token types accepted as subject and actor tokens (not registered metadata; informative). */
  token_types_supported: string[];
  /** RFC 8707: the token endpoint takes a `resource` parameter (draft/informative, widely read by MCP clients). */
  resource_parameter_supported: boolean;
}

/**
 * The authorization server metadata document for `/.well-known/oauth-authorization-server`.
 * @example authorizationServerMetadata('https://keyward.example').token_endpoint; // 'https://keyward.example/oauth/token'
 */
export function authorizationServerMetadata(issuer: string): AuthorizationServerMetadata {
  const urls = brokerEndpoints(issuer);
  const algs = [...CLIENT_ASSERTION_ALGORITHMS];
  return {
    issuer,
    token_endpoint: urls.token,
    jwks_uri: urls.jwks,
    introspection_endpoint: urls.introspection,
    revocation_endpoint: urls.revocation,
    response_types_supported: [],
    grant_types_supported: [GRANT_TYPES.clientCredentials, GRANT_TYPES.tokenExchange, GRANT_TYPES.ciba],
    token_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
    token_endpoint_auth_signing_alg_values_supported: algs,
    introspection_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
    introspection_endpoint_auth_signing_alg_values_supported: algs,
    revocation_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
    revocation_endpoint_auth_signing_alg_values_supported: algs,
    dpop_signing_alg_values_supported: [...DPOP_ALGORITHMS],
    token_types_supported: [TOKEN_TYPES.accessToken, TOKEN_TYPES.jwt],
    resource_parameter_supported: true,
  };
}

/** RFC 9728 §2 protected resource metadata. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported?: string[];
  bearer_methods_supported: string[];
  dpop_signing_alg_values_supported: string[];
  dpop_bound_access_tokens_required: boolean;
}

/** What the policies and upstreams say about one resource. */
export interface ResourceFacts {
  /** Concrete scopes allow rules for the resource list (patterns are left out). */
  scopes: string[];
  /** Every agent type that may get tokens for it requires DPoP. */
  dpopRequired: boolean;
}

/**
 * The protected resource metadata document of a resource registered in Keyward: the broker is its
 * authorization server; bearer tokens go in the Authorization header (RFC 9728 §2, RFC 6750 §2.1).
 */
export function protectedResourceMetadata(
  issuer: string,
  resource: string,
  facts: ResourceFacts,
): ProtectedResourceMetadata {
  return {
    resource,
    authorization_servers: [issuer],
    ...(facts.scopes.length > 0 ? { scopes_supported: [...facts.scopes] } : {}),
    bearer_methods_supported: ['header'],
    dpop_signing_alg_values_supported: [...DPOP_ALGORITHMS],
    dpop_bound_access_tokens_required: facts.dpopRequired,
  };
}
