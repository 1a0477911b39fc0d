/** The credential broker's public surface: the service, its configuration, and what the server and CLI need. */
export {
  createBrokerService,
  brokerConfigSchema,
  normalizeIssuer,
  type BrokerService,
  type BrokerServiceDeps,
  type BrokerServiceStore,
  type BrokerConfig,
  type AgentTypePolicyInput,
  type AgentRegistration,
  type RegisteredAgent,
  type FederatedIssuerRegistration,
  type RevokeInput,
  type IntrospectionResponse,
  type RevocationRequest,
  type RevocationResponse,
  type VerifyTokenOptions,
  type TokenVerification,
  type OwnTokenVerification,
  type ExplainInput,
  type BrokerExplanation,
  type BrokerProxyOptions,
} from './broker-service.js';
export {
  oauthError,
  type OAuthErrorCode,
  type OAuthErrorBody,
  type OAuthErrorResponse,
  type TokenSuccessBody,
  type TokenEndpointRequest,
  type TokenEndpointResponse,
  type ClientAuthMethod,
  type AuthenticatedClient,
  type ClientAuthentication,
} from './broker-token-endpoint.js';
export type { KeyRotationResult } from './broker-keyring.js';
export type { ApprovalPoll } from './broker-approvals.js';
export {
  BROKER_PATHS,
  GRANT_TYPES,
  TOKEN_TYPES,
  TOKEN_ENDPOINT_AUTH_METHODS,
  brokerEndpoints,
  type AuthorizationServerMetadata,
  type ProtectedResourceMetadata,
} from './broker-metadata.js';

// Policies: reading files and API bodies, writing them back, explaining decisions.
export {
  parseBrokerPolicy,
  parseBrokerPolicyValue,
  formatFieldPath,
  MAX_POLICY_CHARS,
  type ParsedPolicy,
  type ParsePolicyOptions,
} from './broker-policy-parse.js';
export { policyToDocument, type BrokerPolicyDocument } from './broker-policy-schema.js';
export {
  formatDuration,
  parseDuration,
  type BrokerPolicy,
  type AllowRule,
  type DenyRule,
  type TimeWindow,
} from './broker-policy.js';
export { decide, explain, type Decision, type Explanation, type PolicyExplanation } from './broker-decide.js';

// Crypto a resource server, the CLI or a test client needs.
export {
  createRemoteAccessTokenVerifier,
  verifyAccessToken,
  ACCESS_TOKEN_TYPE,
  type AccessTokenClaims,
  type AccessTokenVerification,
  type ActorClaim,
} from './broker-tokens.js';
export { CLIENT_ASSERTION_TYPE, CLIENT_SECRET_PREFIX, validateClientJwks } from './client-auth.js';
export { DPOP_ALGORITHMS, accessTokenHash, normalizeHtu } from './dpop.js';
export { GITHUB_ACTIONS_ISSUER } from './federated-token.js';

// The credential-injecting proxy and its upstreams (`createProxy` on the service wires it).
export {
  createCredentialProxy,
  upstreamAudience,
  PROXY_EVENT_TYPES,
  type CredentialProxy,
  type CredentialProxyDeps,
  type ProxyHeaders,
  type ProxyRequest,
  type ProxyResponse,
  type ProxyTimeouts,
  type ProxyTokenContext,
  type ProxyTokenVerification,
  type ProxyErrorStage,
} from './proxy/credential-proxy.js';
export {
  createUpstreamVault,
  describeUpstreamInput,
  UPSTREAM_NAME,
  MAX_UPSTREAM_NAME_LENGTH,
  type UpstreamDefinition,
  type DescribeUpstreamOptions,
} from './proxy/upstream-vault.js';
export { UPSTREAM_METHODS, MAX_PROXY_PATH_LENGTH } from './proxy/upstream-routes.js';

// Rightsizing (`keyward rightsize`): usage of credentials against what policies allow.
export {
  computeRightsizing,
  parseWindow,
  windowEndingAt,
  policyYaml,
  DEFAULT_KEEP_RECENT_DAYS,
  MAX_WINDOW_MS,
  type RightsizingReport,
  type AgentTypeRightsizing,
  type RightsizingInput,
  type RightsizingVerdict,
} from './rightsize.js';
export {
  loadRightsizingInput,
  loadUsageTotals,
  type LoadRightsizingOptions,
  type RightsizingStore,
} from './rightsize-load.js';
export { renderRightsizingText, proposalYamlFile } from './rightsize-report.js';
export { usageByAgent, type AgentUsage, type GrantUsage } from './rightsize-usage.js';
