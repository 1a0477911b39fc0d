/** Rules for source hosting, package registries and CI/CD: GitHub, GitLab, Bitbucket, npm, PyPI, Docker Hub, … */
import { hasValidCrc32Suffix } from '../secret-checks.js';
import type { SecretRule } from '../secret-types.js';

// Token boundaries: a credential starts after a character that cannot be part of it and ends before one.
const B = String.raw`(?<![A-Za-z0-9_])`;
const E = String.raw`(?![A-Za-z0-9_])`;

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
    docs: 'https://github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats/',
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

/** Source hosting, package registry and CI/CD rules. */
export const VCS_RULES: SecretRule[] = [
  githubToken('ghp_', 'github-pat-classic', 'GitHub personal access token (classic)', 'pat'),
];
