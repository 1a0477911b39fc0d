/** Rules for source hosting, package registries and CI/CD: GitHub, GitLab, Bitbucket, npm, PyPI, Docker Hub, … */
import { hasValidCrc32Suffix } from '../secret-checks.js';
import type { CaseGen, SecretRule } from '../secret-types.js';
import {
  ALPHA,
  B64URL,
  UUID,
  hasContextNear,
  isBase64UserPass,
  isGitlabRoutable,
  isJwtWithAlg,
  keyedRule,
  makeGitlabRoutable,
  prefixedRule,
  uuid,
} from './saas-checks.js';
import { HEX, B as TOKEN_START, E as TOKEN_END, escapeRegex } from './rule-kit.js';

// Token boundaries: a credential starts after a character that cannot be part of it and ends before one.
const B = String.raw`(?<![A-Za-z0-9_])`;
const E = String.raw`(?![A-Za-z0-9_])`;

const GITHUB_FORMATS =
  'https://github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats/';
const GITLAB_TOKENS = 'https://docs.gitlab.com/security/tokens/';

/** GitHub tokens with the 2021 format: prefix, 30 base62 characters, 6-character base62 CRC32 of those 30. */
function githubToken(prefix: string, id: string, title: string, type: SecretRule['type']): SecretRule {
  return {
    id,
    title,
    severity: 'critical',
    provider: 'github',
    type,
    keywords: [prefix],
    pattern: new RegExp(`${B}(?<secret>${prefix}[0-9A-Za-z]{36})${E}`),
    check: (secret) => hasValidCrc32Suffix(secret, prefix),
    verifiedFormat: true,
    docs: GITHUB_FORMATS,
    cases: {
      positives: (g) => [`GITHUB_TOKEN=${g.githubToken(prefix)}`, `token: "${g.githubToken(prefix)}"`],
      negatives: (g) => {
        const good = g.githubToken(prefix);
        const badSum = good.slice(0, -1) + (good.endsWith('A') ? 'B' : 'A');
        return [`GITHUB_TOKEN=${badSum}`, `x = "${prefix}${'x'.repeat(36)}"`, `${good}0`];
      },
    },
  };
}

/**
 * GitHub App installation tokens in the stateless format rolled out from 27 April 2026: `ghs_`, the decimal
 * app id, `_`, and a JWT whose header is JSON with an `alg`. Source: GitHub docs, "Generating an installation
 * access token for a GitHub App" (note on the ghs_APPID_JWT format).
 */
const githubAppJwtToken: SecretRule = {
  id: 'github-app-installation-token-jwt',
  title: 'GitHub App installation token (stateless JWT format)',
  severity: 'critical',
  provider: 'github',
  type: 'service-account-token',
  keywords: ['ghs_'],
  pattern: new RegExp(
    String.raw`${B}(?<secret>ghs_\d{1,20}_eyJ[A-Za-z0-9_-]{8,2000}\.[A-Za-z0-9_-]{8,4000}\.[A-Za-z0-9_-]{8,2000})${E}`,
  ),
  check: (secret) => isJwtWithAlg(secret.slice(secret.indexOf('_', 4) + 1)),
  verifiedFormat: true,
  docs: 'https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-an-installation-access-token-for-a-github-app',
  cases: {
    positives: (g) => [
      `GITHUB_TOKEN=${g.join('gh', 's_')}${g.chars(7, HEX.slice(0, 10))}_${g.jwt({ iss: 'github', exp: 1_800_000_000, inst: g.chars(8) })}`,
      `Authorization: token ${g.join('gh', 's_')}123456_${g.jwt()}`,
    ],
    negatives: (g) => {
      const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
      const sig = g.base64url(32);
      return [
        // Header without `alg`.
        `GITHUB_TOKEN=${g.join('gh', 's_')}42_${enc({ typ: 'JWT' })}.${enc({ sub: g.chars(8) })}.${sig}`,
        // Header that does not decode to JSON.
        `GITHUB_TOKEN=${g.join('gh', 's_')}42_eyJ${g.chars(30)}.${g.base64url(30)}.${sig}`,
        // Two segments only.
        `GITHUB_TOKEN=${g.join('gh', 's_')}42_${enc({ alg: 'RS256' })}.${sig}`,
      ];
    },
  },
};

/** GitHub refresh tokens: `ghr_` and a base62 body (36 with CRC32 in the 2021 format; longer ones are seen). */
const githubRefreshToken: SecretRule = {
  id: 'github-refresh-token',
  title: 'GitHub user-to-server refresh token',
  severity: 'high',
  provider: 'github',
  type: 'oauth-token',
  keywords: ['ghr_'],
  pattern: new RegExp(`${B}(?<secret>ghr_[0-9A-Za-z]{36,76})${E}`),
  // A 36-character body is the documented 2021 shape and must carry the CRC32; longer bodies are accepted on shape.
  check: (secret) => secret.length !== 40 || hasValidCrc32Suffix(secret, 'ghr_'),
  verifiedFormat: false,
  minEntropy: 3.5,
  docs: GITHUB_FORMATS,
  cases: {
    positives: (g) => [`refresh_token=${g.githubToken('ghr_')}`, `"refresh_token": "ghr_${g.chars(76)}"`],
    negatives: (g) => {
      const good = g.githubToken('ghr_');
      return [
        `refresh_token=${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`,
        `refresh_token=ghr_${'x'.repeat(40)}`,
        `refresh_token=ghr_${g.chars(30)}`,
      ];
    },
  },
};

/** GitHub fine-grained personal access tokens: `github_pat_`, 22 base62, `_`, 59 base62 (93 characters). */
const githubFineGrained = prefixedRule({
  id: 'github-pat-fine-grained',
  title: 'GitHub fine-grained personal access token',
  severity: 'critical',
  provider: 'github',
  type: 'pat',
  prefix: 'github_pat_',
  alphabet: ALPHA.base62,
  len: 82,
  body: '[0-9A-Za-z]{22}_[0-9A-Za-z]{59}',
  gen: (g) => `${g.chars(22)}_${g.chars(59)}`,
  keyName: 'GITHUB_TOKEN',
  verifiedFormat: true,
  docs: 'https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/managing-your-personal-access-tokens',
  negatives: (g) => [`GITHUB_TOKEN=github_pat_${g.chars(22)}_${g.chars(60)}`],
});

/** A GitHub OAuth app client secret: 40 hex digits under a key naming GitHub and a secret. */
const githubOauthSecret = keyedRule({
  id: 'github-oauth-client-secret',
  title: 'GitHub OAuth app client secret',
  severity: 'high',
  provider: 'github',
  type: 'oauth-client-secret',
  keys: ['github'],
  keySuffix: 'secret',
  value: '[0-9a-f]{40}',
  gen: (g) => g.hex(20),
  bad: (g) => g.hex(19),
  keyName: 'GITHUB_CLIENT_SECRET',
  docs: 'https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps',
});

/** A pre-2021 GitHub token (40 hex digits, no prefix) under a key naming GitHub and a token. */
const githubLegacyToken = keyedRule({
  id: 'github-legacy-token',
  title: 'GitHub token (legacy 40-hex format)',
  severity: 'medium',
  provider: 'github',
  type: 'pat',
  keys: ['github', 'gh_'],
  keySuffix: 'token|pat',
  value: '[0-9a-f]{40}',
  gen: (g) => g.hex(20),
  bad: (g) => g.hex(16),
  keyName: 'GITHUB_TOKEN',
  docs: GITHUB_FORMATS,
});

/**
 * A GitLab token: the legacy shape (prefix + fixed-length body) or the routable shape
 * `<prefix><base64url payload>.<version>.<length><crc32>` whose base36 CRC32 is checked.
 */
function gitlabToken(
  prefix: string,
  legacy: { src: string; gen: (g: CaseGen) => string },
  meta: Pick<SecretRule, 'id' | 'title' | 'severity' | 'type'>,
  keyName: string,
  verifiedFormat = true,
): SecretRule {
  const p = escapeRegex(prefix);
  return {
    ...meta,
    provider: 'gitlab',
    keywords: [prefix],
    pattern: new RegExp(
      String.raw`${TOKEN_START}(?<secret>${p}(?:[0-9A-Za-z_-]{27,300}\.(?:[0-9a-z]{2}\.)?[0-9a-z]{9}|${legacy.src}))${TOKEN_END}`,
    ),
    check: (secret) => !secret.includes('.') || isGitlabRoutable(secret, prefix),
    verifiedFormat,
    minEntropy: 3,
    docs: GITLAB_TOKENS,
    cases: {
      positives: (g) => [
        `${keyName}=${prefix}${legacy.gen(g)}`,
        `${keyName}=${makeGitlabRoutable(prefix, g.base64url(40))}`,
        `"token": "${makeGitlabRoutable(prefix, g.base64url(24), false)}"`,
      ],
      negatives: (g) => {
        const routable = makeGitlabRoutable(prefix, g.base64url(40));
        const badCrc = routable.slice(0, -1) + (routable.endsWith('0') ? '1' : '0');
        const head = `${prefix}${g.base64url(40)}.01.`;
        return [
          `${keyName}=${badCrc}`,
          // Length field that does not match the payload.
          `${keyName}=${head}zz${g.chars(7, '0123456789abcdefghijklmnopqrstuvwxyz')}`,
          `${keyName}=${prefix}${'x'.repeat(20)}`,
          `${keyName}=${prefix}${legacy.gen(g).slice(0, 12)}`,
          `Tokens use the ${prefix} prefix.`,
        ];
      },
    },
  };
}

const b64u = (n: number) => (g: CaseGen) => g.chars(n, B64URL);
const legacy20 = { src: '[0-9A-Za-z_-]{20}', gen: b64u(20) };

/** GitLab tokens (prefixes from the GitLab token overview). */
const GITLAB_RULES: SecretRule[] = [
  gitlabToken(
    'glpat-',
    legacy20,
    { id: 'gitlab-pat', title: 'GitLab personal access token', severity: 'critical', type: 'pat' },
    'GITLAB_TOKEN',
  ),
  gitlabToken(
    'gldt-',
    legacy20,
    { id: 'gitlab-deploy-token', title: 'GitLab deploy token', severity: 'high', type: 'deploy-key' },
    'CI_DEPLOY_PASSWORD',
  ),
  gitlabToken(
    'glrt-',
    legacy20,
    {
      id: 'gitlab-runner-token',
      title: 'GitLab runner authentication token',
      severity: 'high',
      type: 'service-account-token',
    },
    'RUNNER_TOKEN',
  ),
  gitlabToken(
    'glptt-',
    { src: '(?:[0-9a-f]{40}|[0-9A-Za-z_-]{20})', gen: (g) => g.hex(20) },
    {
      id: 'gitlab-pipeline-trigger-token',
      title: 'GitLab pipeline trigger token',
      severity: 'high',
      type: 'api-key',
    },
    'TRIGGER_TOKEN',
  ),
  gitlabToken(
    'glsoat-',
    legacy20,
    {
      id: 'gitlab-scim-oauth-token',
      title: 'GitLab SCIM OAuth token',
      severity: 'high',
      type: 'oauth-token',
    },
    'SCIM_TOKEN',
  ),
  gitlabToken(
    'glcbt-',
    { src: '[0-9a-fA-F]{1,5}_[0-9A-Za-z_-]{20}', gen: (g) => `${g.hex(1)}_${b64u(20)(g)}` },
    {
      id: 'gitlab-ci-job-token',
      title: 'GitLab CI/CD job token',
      severity: 'medium',
      type: 'service-account-token',
    },
    'CI_JOB_TOKEN',
    // The partition part before `_` varies in length.
    false,
  ),
  gitlabToken(
    'glimt-',
    { src: '[0-9A-Za-z_-]{25}', gen: b64u(25) },
    {
      id: 'gitlab-incoming-mail-token',
      title: 'GitLab incoming email token',
      severity: 'medium',
      type: 'api-key',
    },
    'INCOMING_EMAIL_TOKEN',
  ),
  gitlabToken(
    'glagent-',
    { src: '[0-9A-Za-z_-]{50}', gen: b64u(50) },
    {
      id: 'gitlab-agent-token',
      title: 'GitLab agent for Kubernetes token',
      severity: 'high',
      type: 'service-account-token',
    },
    'AGENT_TOKEN',
  ),
  gitlabToken(
    'gloas-',
    { src: '[0-9a-f]{64}', gen: (g) => g.hex(32) },
    {
      id: 'gitlab-oauth-app-secret',
      title: 'GitLab OAuth application secret',
      severity: 'high',
      type: 'oauth-client-secret',
    },
    'GITLAB_OAUTH_SECRET',
  ),
  gitlabToken(
    'glft-',
    legacy20,
    { id: 'gitlab-feed-token', title: 'GitLab feed token', severity: 'medium', type: 'api-key' },
    'GITLAB_FEED_TOKEN',
  ),
  prefixedRule({
    id: 'gitlab-runner-registration-token',
    title: 'GitLab runner registration token (deprecated)',
    severity: 'high',
    provider: 'gitlab',
    type: 'api-key',
    prefix: 'GR1348941',
    alphabet: ALPHA.b64url,
    len: 20,
    keyName: 'REGISTRATION_TOKEN',
    verifiedFormat: true,
    docs: GITLAB_TOKENS,
  }),
];

/** Atlassian cloud tokens: a versioned prefix, a base64url body, `=` and an 8-hex-digit tail (shape only). */
function atlassianToken(
  prefix: string,
  meta: Pick<SecretRule, 'id' | 'title' | 'type' | 'provider'>,
): SecretRule {
  return {
    ...meta,
    severity: 'high',
    keywords: [prefix],
    pattern: new RegExp(
      `${TOKEN_START}(?<secret>${prefix}[A-Za-z0-9_=+/-]{120,260}=[0-9A-Fa-f]{8})${TOKEN_END}`,
    ),
    verifiedFormat: false,
    minEntropy: 4,
    docs: 'https://support.atlassian.com/atlassian-account/docs/manage-api-tokens-for-your-atlassian-account/',
    cases: {
      positives: (g) => [
        `ATLASSIAN_API_TOKEN=${prefix}${g.chars(180, B64URL)}=${g.hex(4).toUpperCase()}`,
        `password: ${prefix}${g.chars(170, B64URL)}=${g.hex(4).toUpperCase()}`,
      ],
      negatives: (g) => [
        `ATLASSIAN_API_TOKEN=${prefix}${g.chars(60, B64URL)}=${g.hex(4).toUpperCase()}`,
        `ATLASSIAN_API_TOKEN=${prefix}${g.chars(180, B64URL)}`,
        `Atlassian tokens begin with ${prefix}.`,
      ],
    },
  };
}

/** Source hosting, package registry and CI/CD rules. */
export const VCS_RULES: SecretRule[] = [
  githubToken('ghp_', 'github-pat-classic', 'GitHub personal access token (classic)', 'pat'),
  githubToken('gho_', 'github-oauth-token', 'GitHub OAuth access token', 'oauth-token'),
  githubToken('ghu_', 'github-user-to-server-token', 'GitHub App user-to-server token', 'oauth-token'),
  githubToken(
    'ghs_',
    'github-app-installation-token',
    'GitHub App installation token',
    'service-account-token',
  ),
  githubAppJwtToken,
  githubRefreshToken,
  githubFineGrained,
  githubOauthSecret,
  githubLegacyToken,
  ...GITLAB_RULES,
  prefixedRule({
    id: 'bitbucket-app-password',
    title: 'Bitbucket app password',
    severity: 'high',
    provider: 'bitbucket',
    type: 'password',
    prefix: 'ATBB',
    alphabet: ALPHA.base62,
    len: 32,
    keyName: 'BITBUCKET_APP_PASSWORD',
    verifiedFormat: false,
    docs: 'https://support.atlassian.com/bitbucket-cloud/docs/app-passwords/',
  }),
  prefixedRule({
    id: 'bitbucket-dc-access-token',
    title: 'Bitbucket Data Center HTTP access token',
    severity: 'high',
    provider: 'bitbucket',
    type: 'api-key',
    prefix: 'BBDC-',
    alphabet: { cls: 'A-Za-z0-9+/@_-', chars: '' },
    len: [40, 50],
    keyName: 'BITBUCKET_TOKEN',
    verifiedFormat: false,
    minEntropy: 3.5,
    docs: 'https://confluence.atlassian.com/bitbucketserver/http-access-tokens-939515499.html',
  }),
  atlassianToken('ATCTT3', {
    id: 'bitbucket-access-token',
    title: 'Bitbucket repository/project/workspace access token',
    type: 'api-key',
    provider: 'bitbucket',
  }),
  atlassianToken('ATATT3', {
    id: 'atlassian-api-token',
    title: 'Atlassian API token',
    type: 'api-key',
    provider: 'atlassian',
  }),
  keyedRule({
    id: 'atlassian-legacy-api-token',
    title: 'Atlassian (Jira/Confluence) legacy API token',
    severity: 'medium',
    provider: 'atlassian',
    type: 'api-key',
    keys: ['jira', 'atlassian', 'confluence'],
    keySuffix: 'token|key|pass',
    value: '[0-9A-Za-z]{24}',
    gen: (g) => g.chars(24),
    bad: (g) => g.chars(23),
    keyName: 'JIRA_API_TOKEN',
  }),
  prefixedRule({
    id: 'npm-access-token',
    title: 'npm access token',
    severity: 'critical',
    provider: 'npm',
    type: 'api-key',
    prefix: 'npm_',
    alphabet: ALPHA.base62,
    len: 36,
    gen: (g) => g.githubToken(''),
    check: (secret) => hasValidCrc32Suffix(secret, 'npm_'),
    keyName: 'NPM_TOKEN',
    verifiedFormat: true,
    docs: 'https://github.blog/changelog/2021-09-23-npm-has-a-new-access-token-format/',
    negatives: (g) => {
      const body = g.githubToken('');
      return [`NPM_TOKEN=npm_${body.slice(0, -1)}${body.endsWith('A') ? 'B' : 'A'}`];
    },
  }),
  {
    id: 'npm-legacy-auth-token',
    title: 'npm legacy auth token in .npmrc',
    severity: 'medium',
    provider: 'npm',
    type: 'api-key',
    keywords: ['_authToken'],
    pattern: new RegExp(String.raw`_authToken\s{0,3}=\s{0,3}["']?(?<secret>${UUID})(?![\w-])`),
    ignoreCase: true,
    verifiedFormat: false,
    docs: 'https://docs.npmjs.com/cli/configuring-npm/npmrc',
    cases: {
      positives: (g) => [`//registry.npmjs.org/:_authToken=${uuid(g)}`],
      negatives: (g) => [
        '//registry.npmjs.org/:_authToken=${NPM_TOKEN}',
        `//registry.npmjs.org/:_authToken=${uuid(g).slice(0, 30)}`,
        `id = ${uuid(g)}`,
      ],
    },
  },
  {
    id: 'npm-legacy-auth-basic',
    title: 'npm _auth (base64 user:password) in .npmrc',
    severity: 'high',
    provider: 'npm',
    type: 'basic-auth',
    keywords: ['_auth'],
    pattern: new RegExp(
      String.raw`(?<![\w])_auth\s{0,3}=\s{0,3}["']?(?<secret>[A-Za-z0-9+/]{8,512}={0,2})(?![\w+/=])`,
    ),
    check: (secret) => isBase64UserPass(secret),
    verifiedFormat: false,
    docs: 'https://docs.npmjs.com/cli/configuring-npm/npmrc',
    cases: {
      positives: (g) => [
        `_auth=${Buffer.from(`ci-bot:${g.chars(20)}`).toString('base64')}`,
        `//npm.corp.internal/:_auth="${Buffer.from(`deploy:${g.chars(16)}`).toString('base64')}"`,
      ],
      negatives: (g) => [
        '_auth=${NPM_AUTH}',
        `_auth=${g.base64(30)}`,
        'See the _auth = setting in the npm docs.',
      ],
    },
  },
  prefixedRule({
    id: 'pypi-upload-token',
    title: 'PyPI API token',
    severity: 'critical',
    provider: 'pypi',
    type: 'api-key',
    prefix: 'pypi-AgEIcHlwaS5vcmc',
    alphabet: ALPHA.b64url,
    len: [50, 2000],
    gen: (g) => g.base64url(120),
    keyName: 'TWINE_PASSWORD',
    verifiedFormat: false,
    docs: 'https://pypi.org/help/#apitoken',
  }),
  prefixedRule({
    id: 'pypi-test-upload-token',
    title: 'TestPyPI API token',
    severity: 'low',
    provider: 'pypi',
    type: 'api-key',
    prefix: 'pypi-AgENdGVzdC5weXBpLm9yZw',
    alphabet: ALPHA.b64url,
    len: [50, 2000],
    gen: (g) => g.base64url(120),
    keyName: 'TWINE_PASSWORD',
    verifiedFormat: false,
    docs: 'https://test.pypi.org/help/#apitoken',
  }),
  prefixedRule({
    id: 'rubygems-api-key',
    title: 'RubyGems API key',
    severity: 'critical',
    provider: 'rubygems',
    type: 'api-key',
    prefix: 'rubygems_',
    alphabet: ALPHA.hex,
    len: 48,
    keyName: 'GEM_HOST_API_KEY',
    verifiedFormat: true,
    docs: 'https://guides.rubygems.org/api-key-scopes/',
  }),
  prefixedRule({
    id: 'nuget-api-key',
    title: 'NuGet API key',
    severity: 'high',
    provider: 'nuget',
    type: 'api-key',
    prefix: 'oy2',
    alphabet: ALPHA.lowerAlnum,
    len: 43,
    keyName: 'NUGET_API_KEY',
    verifiedFormat: false,
    minEntropy: 3.5,
    docs: 'https://learn.microsoft.com/en-us/nuget/nuget-org/scoped-api-keys',
  }),
  prefixedRule({
    id: 'docker-hub-pat',
    title: 'Docker Hub personal access token',
    severity: 'high',
    provider: 'docker',
    type: 'pat',
    prefix: 'dckr_pat_',
    alphabet: ALPHA.b64url,
    // 27 characters in every published sample; a little slack for longer tokens.
    len: [27, 32],
    keyName: 'DOCKERHUB_TOKEN',
    verifiedFormat: false,
    docs: 'https://docs.docker.com/security/for-developers/access-tokens/',
  }),
  prefixedRule({
    id: 'docker-hub-org-token',
    title: 'Docker Hub organization access token',
    severity: 'high',
    provider: 'docker',
    type: 'api-key',
    prefix: 'dckr_oat_',
    alphabet: ALPHA.b64url,
    len: [27, 32],
    keyName: 'DOCKERHUB_TOKEN',
    verifiedFormat: false,
    docs: 'https://docs.docker.com/security/for-admins/access-tokens/',
  }),
  prefixedRule({
    id: 'jfrog-api-key',
    title: 'JFrog Artifactory API key',
    severity: 'high',
    provider: 'jfrog',
    type: 'api-key',
    prefix: 'AKCp',
    alphabet: ALPHA.base62,
    len: 69,
    keyName: 'ARTIFACTORY_API_KEY',
    check: (_s, _m, ctx) => hasContextNear(ctx, /jfrog|artifactory/i),
    verifiedFormat: false,
    docs: 'https://jfrog.com/help/r/jfrog-platform-administration-documentation/api-key',
    negatives: (g) => [`token=AKCp${g.chars(69)}`],
  }),
  prefixedRule({
    id: 'jfrog-reference-token',
    title: 'JFrog reference (access) token',
    severity: 'high',
    provider: 'jfrog',
    type: 'api-key',
    prefix: 'cmVmdGtu',
    alphabet: { cls: 'A-Za-z0-9+/', chars: '' },
    len: 56,
    // Base64 of `reftkn:01:<expiry>:<random>`; the decoded text must start with `reftkn:`.
    gen: (g) =>
      Buffer.from(`reftkn:01:${g.chars(10, HEX.slice(0, 10))}:${g.chars(27)}`)
        .toString('base64')
        .slice(8),
    check: (secret) => Buffer.from(secret, 'base64').toString('latin1').startsWith('reftkn:'),
    keyName: 'JFROG_ACCESS_TOKEN',
    verifiedFormat: false,
    docs: 'https://jfrog.com/help/r/jfrog-platform-administration-documentation/access-tokens',
  }),
  keyedRule({
    id: 'snyk-api-token',
    title: 'Snyk API token',
    severity: 'medium',
    provider: 'snyk',
    type: 'api-key',
    keys: ['snyk'],
    keySuffix: 'token|key|secret|auth',
    value: UUID,
    gen: uuid,
    bad: (g) => uuid(g).slice(0, 35),
    keyName: 'SNYK_TOKEN',
    docs: 'https://docs.snyk.io/snyk-api/authentication-for-api',
  }),
  ...(['squ_', 'sqp_', 'sqa_'] as const).map((prefix) =>
    prefixedRule({
      id: `sonarqube-${{ squ_: 'user', sqp_: 'project', sqa_: 'global' }[prefix]}-token`,
      title: `SonarQube ${{ squ_: 'user', sqp_: 'project analysis', sqa_: 'global analysis' }[prefix]} token`,
      severity: 'high',
      provider: 'sonarqube',
      type: 'api-key',
      prefix,
      alphabet: ALPHA.hex,
      len: 40,
      keyName: 'SONAR_TOKEN',
      verifiedFormat: true,
      docs: 'https://docs.sonarsource.com/sonarqube-server/latest/user-guide/managing-tokens/',
    }),
  ),
  prefixedRule({
    id: 'circleci-personal-token',
    title: 'CircleCI personal API token',
    severity: 'high',
    provider: 'circleci',
    type: 'pat',
    prefix: 'CCIPAT_',
    alphabet: ALPHA.base62,
    len: 63,
    body: '[0-9A-Za-z]{22}_[0-9a-f]{40}',
    gen: (g) => `${g.chars(22)}_${g.hex(20)}`,
    keyName: 'CIRCLECI_TOKEN',
    verifiedFormat: false,
    docs: 'https://circleci.com/docs/managing-api-tokens/',
  }),
  prefixedRule({
    id: 'circleci-project-token',
    title: 'CircleCI project API token',
    severity: 'high',
    provider: 'circleci',
    type: 'api-key',
    prefix: 'CCIPRJ_',
    alphabet: ALPHA.base62,
    len: 63,
    body: '[0-9A-Za-z]{22}_[0-9a-f]{40}',
    gen: (g) => `${g.chars(22)}_${g.hex(20)}`,
    keyName: 'CIRCLECI_TOKEN',
    verifiedFormat: false,
    docs: 'https://circleci.com/docs/managing-api-tokens/',
  }),
  keyedRule({
    id: 'circleci-legacy-token',
    title: 'CircleCI API token (legacy 40-hex)',
    severity: 'medium',
    provider: 'circleci',
    type: 'api-key',
    keys: ['circleci', 'circle_token', 'circle-token'],
    value: '[0-9a-f]{40}',
    gen: (g) => g.hex(20),
    bad: (g) => g.hex(19),
    keyName: 'CIRCLECI_TOKEN',
  }),
  prefixedRule({
    id: 'buildkite-api-token',
    title: 'Buildkite API access token',
    severity: 'high',
    provider: 'buildkite',
    type: 'api-key',
    prefix: 'bkua_',
    alphabet: ALPHA.hex,
    len: 40,
    keyName: 'BUILDKITE_API_TOKEN',
    verifiedFormat: true,
    docs: 'https://buildkite.com/docs/apis/managing-api-tokens',
  }),
  keyedRule({
    id: 'travis-ci-token',
    title: 'Travis CI API token',
    severity: 'medium',
    provider: 'travis-ci',
    type: 'api-key',
    keys: ['travis'],
    keySuffix: 'token|key',
    value: '[0-9A-Za-z_-]{22}',
    gen: (g) => g.chars(22),
    bad: (g) => g.chars(21),
    keyName: 'TRAVIS_API_TOKEN',
  }),
  keyedRule({
    id: 'codecov-token',
    title: 'Codecov upload token',
    severity: 'medium',
    provider: 'codecov',
    type: 'api-key',
    keys: ['codecov'],
    keySuffix: 'token',
    value: UUID,
    gen: uuid,
    bad: (g) => uuid(g).slice(1),
    keyName: 'CODECOV_TOKEN',
    docs: 'https://docs.codecov.com/docs/codecov-tokens',
  }),
  prefixedRule({
    id: 'sourcegraph-access-token',
    title: 'Sourcegraph access token',
    severity: 'high',
    provider: 'sourcegraph',
    type: 'api-key',
    prefix: 'sgp_',
    alphabet: ALPHA.hex,
    len: 40,
    // `sgp_<40 hex>`, `sgp_<16-hex instance id>_<40 hex>` or `sgp_local_<40 hex>`.
    body: '(?:(?:[0-9a-f]{16}|local)_)?[0-9a-f]{40}',
    gen: (g) => `${g.hex(8)}_${g.hex(20)}`,
    keyName: 'SRC_ACCESS_TOKEN',
    verifiedFormat: true,
    docs: 'https://sourcegraph.com/docs/cli/how-tos/creating_an_access_token',
    negatives: (g) => [`SRC_ACCESS_TOKEN=sgp_${g.hex(19)}`],
  }),
  prefixedRule({
    id: 'postman-api-key',
    title: 'Postman API key',
    severity: 'high',
    provider: 'postman',
    type: 'api-key',
    prefix: 'PMAK-',
    alphabet: ALPHA.hex,
    len: 59,
    body: '[0-9a-f]{24}-[0-9a-f]{34}',
    gen: (g) => `${g.hex(12)}-${g.hex(17)}`,
    keyName: 'POSTMAN_API_KEY',
    verifiedFormat: true,
    docs: 'https://learning.postman.com/docs/developer/postman-api/authentication/',
  }),
  prefixedRule({
    id: 'linear-api-key',
    title: 'Linear API key',
    severity: 'high',
    provider: 'linear',
    type: 'api-key',
    prefix: 'lin_api_',
    alphabet: ALPHA.base62,
    len: 40,
    keyName: 'LINEAR_API_KEY',
    verifiedFormat: true,
    docs: 'https://linear.app/developers/graphql',
  }),
];
