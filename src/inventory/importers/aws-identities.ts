/**
 * What the two AWS exports share: reading IAM ARNs, and deciding an IAM user's identity kind from its path and
 * tags, so a user imported from the authorization details and from the credential report is the same identity.
 */
import type { IdentityKind } from '../../core/types.js';

/** The parts of an IAM user or role ARN: `arn:aws:iam::123456789012:user/ci/deployer`. */
export interface IamArn {
  partition: string;
  accountId: string;
  /** `user`, `role`, `group`, `policy`, or `root`. */
  resourceType: string;
  /** `/ci/` for `user/ci/deployer`; `/` when there is no path. */
  path: string;
  name: string;
}

/** Parses an IAM ARN; null when it is not one. */
export function parseIamArn(arn: string): IamArn | null {
  const m =
    /^arn:(aws[a-z-]*):iam::(\d{12}|aws):(root|(user|role|group|policy|instance-profile)\/(.+))$/.exec(arn);
  if (!m) return null;
  if (m[3] === 'root')
    return { partition: m[1]!, accountId: m[2]!, resourceType: 'root', path: '/', name: 'root' };
  const parts = m[5]!.split('/');
  const name = parts.pop()!;
  return {
    partition: m[1]!,
    accountId: m[2]!,
    resourceType: m[4]!,
    path: parts.length ? `/${parts.join('/')}/` : '/',
    name,
  };
}

/** Tag keys that set an identity's kind explicitly (value: one of the identity kinds). */
export const KIND_TAG_KEYS = ['keyward:kind', 'keyward.io/kind', 'nhi-kind', 'identity-kind'];

const PATH_KINDS: Array<{ words: string[]; kind: IdentityKind }> = [
  {
    words: [
      'ci',
      'cicd',
      'ci-cd',
      'pipeline',
      'pipelines',
      'github-actions',
      'gitlab-ci',
      'jenkins',
      'build',
      'builds',
    ],
    kind: 'ci-pipeline',
  },
  { words: ['bot', 'bots'], kind: 'bot' },
  { words: ['agent', 'agents', 'ai', 'ai-agents', 'llm'], kind: 'ai-agent' },
  { words: ['human', 'humans', 'people', 'staff', 'employee', 'employees'], kind: 'user-key' },
];

/** The kind an IAM path suggests (`/ci/` → ci-pipeline, `/bots/` → bot, `/agents/` → ai-agent, `/humans/` → user-key), or null. */
export function kindFromIamPath(path: string): IdentityKind | null {
  const segments = path.toLowerCase().split('/').filter(Boolean);
  for (const { words, kind } of PATH_KINDS) if (segments.some((s) => words.includes(s))) return kind;
  return null;
}
