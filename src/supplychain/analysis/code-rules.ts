/**
 * String-level threat rules of the static JavaScript analyser: tables of needles (credential paths, metadata
 * endpoints, exfiltration hosts, persistence targets, …) and linear regexes, matched against the text of string
 * literals, template literals and folded concatenations. The same tables feed `mayHaveSignals`, so the
 * pre-filter cannot drift from the rules.
 */
import type { NpmSeverity, ThreatCategory } from '../npm-types.js';

/** A substring to look for in a lower-cased, slash-normalised string; `start`/`end` ask for a word boundary. */
export interface Needle {
  text: string;
  start?: boolean;
  end?: boolean;
}

/** A group of needles that mean one thing ("the AWS credentials file"); reported once per file. */
export interface NeedleGroup {
  category: ThreatCategory;
  severity: NpmSeverity;
  /** What the string names, for the message: "names the AWS credentials file". */
  what: string;
  needles: Needle[];
  /** Extra words that must occur in the text for the pre-filter (defaults to the needles). */
}

/** A regex rule over strings; every regex here is linear (no nested quantifiers, bounded repetitions). */
export interface RegexGroup {
  category: ThreatCategory;
  severity: NpmSeverity;
  what: string;
  regex: RegExp;
  /** Lower-case substrings one of which any match must contain (for the pre-filter). */
  indicators: string[];
}

/** One string-rule hit: which group, and where in the string. */
export interface StringHit {
  category: ThreatCategory;
  severity: NpmSeverity;
  what: string;
  /** Offset of the match in the analysed string. */
  offset: number;
}

const n = (text: string, start = false, end = false): Needle => ({ text, start, end });

/** Credential stores, metadata endpoints, exfiltration sinks, persistence targets and the like. */
export const NEEDLE_GROUPS: readonly NeedleGroup[] = [
  {
    category: 'credential-read',
    severity: 'medium',
    what: 'the npm credentials file (.npmrc)',
    needles: [n('/.npmrc', false, true)],
  },
  {
    category: 'credential-read',
    severity: 'medium',
    what: 'the yarn credentials file (.yarnrc)',
    needles: [n('/.yarnrc')],
  },
  {
    category: 'credential-read',
    severity: 'medium',
    what: 'the AWS credentials or config file',
    needles: [n('.aws/credentials'), n('.aws/config', false, true)],
  },
  {
    category: 'credential-read',
    severity: 'medium',
    what: 'an SSH private key (~/.ssh/id_*)',
    needles: [
      n('.ssh/id_'),
      n('id_rsa', true, true),
      n('id_ed25519', true, true),
      n('id_ecdsa', true, true),
      n('id_dsa', true, true),
    ],
  },
  {
    category: 'credential-read',
    severity: 'medium',
    what: 'the git credential store (.git-credentials)',
    needles: [n('/.git-credentials')],
  },
  {
    category: 'credential-read',
    severity: 'medium',
    what: 'Google Cloud credentials',
    needles: [n('.config/gcloud'), n('application_default_credentials.json')],
  },
  {
    category: 'credential-read',
    severity: 'medium',
    what: 'the Azure CLI credential directory (.azure)',
    needles: [n('/.azure', false, true), n('~/.azure', false, true)],
  },
  {
    category: 'credential-read',
    severity: 'medium',
    what: 'the Kubernetes config (.kube/config)',
    needles: [n('.kube/config')],
  },
  {
    category: 'credential-read',
    severity: 'medium',
    what: 'the Docker credentials file (.docker/config.json)',
    needles: [n('.docker/config.json')],
  },
  {
    category: 'credential-read',
    severity: 'medium',
    what: 'the netrc credentials file (.netrc)',
    needles: [n('/.netrc', false, true)],
  },
  {
    category: 'credential-read',
    severity: 'medium',
    what: 'the PyPI credentials file (.pypirc)',
    needles: [n('/.pypirc', false, true)],
  },
  {
    category: 'credential-read',
    severity: 'medium',
    what: 'the GitHub CLI token file (gh/hosts.yml)',
    needles: [n('gh/hosts.yml')],
  },
  {
    category: 'credential-read',
    severity: 'medium',
    what: 'a browser password or cookie store',
    needles: [
      n('/login data', false, true),
      n('/local state', false, true),
      n('/default/cookies'),
      n('/network/cookies'),
      n('local storage/leveldb'),
      n('logins.json', true, true),
      n('key4.db', true, true),
    ],
  },
  {
    category: 'credential-read',
    severity: 'medium',
    what: 'a cryptocurrency wallet store',
    needles: [
      n('exodus.wallet'),
      n('electrum/wallets'),
      n('nkbihfbeogaeaoehlefnkodbefgpgknn'),
      n('bfnaelmomeimhlpmgjnjophhpkkoljpa'),
      n('atomic/local storage'),
      n('keystore/utc--'),
      n('solana/id.json'),
    ],
  },
  {
    category: 'metadata-endpoint',
    severity: 'medium',
    what: 'a cloud instance metadata endpoint',
    needles: [
      n('169.254.169.254', true, true),
      n('fd00:ec2::254'),
      n('metadata.google.internal'),
      n('169.254.170.2', true, true),
      n('/metadata/identity/oauth2/token'),
    ],
  },
  {
    category: 'exfiltration',
    severity: 'medium',
    what: 'a known exfiltration or tunnelling service',
    needles: [
      n('webhook.site', true),
      n('discord.com/api/webhooks'),
      n('discordapp.com/api/webhooks'),
      n('api.telegram.org/bot'),
      n('pastebin.com', true),
      n('paste.ee', true, true),
      n('hastebin', true),
      n('transfer.sh', true, true),
      n('ngrok.io', false, true),
      n('ngrok-free.app', false, true),
      n('ngrok.app', false, true),
      n('trycloudflare.com', false, true),
      n('pipedream.net', false, true),
      n('requestbin', true),
      n('interact.sh', true, true),
      n('oast.fun', true, true),
      n('oast.pro', true, true),
      n('oast.live', true, true),
      n('oast.site', true, true),
      n('oast.online', true, true),
      n('oast.me', true, true),
      n('burpcollaborator', true),
      n('serveo.net', true, true),
      n('loca.lt', true, true),
    ],
  },
  {
    category: 'exfiltration',
    severity: 'medium',
    what: 'GitHub repository creation (api.github.com/user/repos)',
    needles: [n('api.github.com/user/repos')],
  },
  {
    category: 'persistence',
    severity: 'medium',
    what: 'a shell start-up file',
    needles: [
      n('.bashrc', true, true),
      n('.zshrc', true, true),
      n('.profile', true, true),
      n('.bash_profile', true, true),
      n('.zprofile', true, true),
      n('fish/config.fish'),
    ],
  },
  { category: 'persistence', severity: 'medium', what: 'git hooks (.git/hooks)', needles: [n('.git/hooks')] },
  {
    category: 'persistence',
    severity: 'medium',
    what: 'GitHub Actions workflows (.github/workflows)',
    needles: [n('.github/workflows')],
  },
  {
    category: 'persistence',
    severity: 'medium',
    what: 'editor settings, tasks or extensions (VS Code, Cursor, Windsurf)',
    needles: [
      n('code/user/settings.json'),
      n('cursor/user/settings.json'),
      n('windsurf/user/settings.json'),
      n('/user/keybindings.json'),
      n('.vscode/settings.json'),
      n('.vscode/tasks.json'),
      n('.vscode/extensions'),
      n('.cursor/extensions'),
      n('.windsurf/extensions'),
    ],
  },
  {
    category: 'persistence',
    severity: 'medium',
    what: 'an AI agent configuration (MCP config, ~/.claude, ~/.gemini, ~/.codex)',
    needles: [
      n('mcp.json', false, true),
      n('claude_desktop_config.json'),
      n('.claude', true, true),
      n('.gemini', true, true),
      n('.codex', true, true),
    ],
  },
  {
    category: 'persistence',
    severity: 'medium',
    what: 'an auto-start location (LaunchAgents, systemd user units, cron, rc.local)',
    needles: [
      n('launchagents', true),
      n('.config/systemd/user'),
      n('/var/spool/cron'),
      n('crontab -', true),
      n('/etc/rc.local'),
    ],
  },
  {
    category: 'persistence',
    severity: 'medium',
    what: 'SSH authorized_keys',
    needles: [n('authorized_keys', true, true)],
  },
  {
    category: 'self-propagation',
    severity: 'medium',
    what: 'npm publishing or npm token use',
    needles: [
      n('npm publish', true),
      n('npm_token', true, true),
      n('//registry.npmjs.org/:_authtoken'),
      n('npm whoami', true),
      n('/-/whoami'),
      n('/-/npm/v1/tokens'),
      n('npm version patch', true),
    ],
  },
  {
    category: 'secret-scanner-download',
    severity: 'high',
    what: 'a secret-scanning tool (trufflehog, gitleaks, …) fetched or run by package code',
    needles: [
      n('trufflehog', true),
      n('gitleaks', true),
      n('ggshield', true),
      n('noseyparker', true),
      n('nosey-parker', true),
      n('detect-secrets', true),
    ],
  },
  {
    category: 'download-exec',
    severity: 'high',
    what: 'the bun installer (bun.sh/install)',
    needles: [n('bun.sh/install')],
  },
];

/** Linear regexes run on lower-cased, slash-normalised strings. */
export const REGEX_GROUPS: readonly RegexGroup[] = [
  {
    category: 'download-exec',
    severity: 'high',
    what: 'a download piped into a shell (curl/wget … | sh)',
    regex: /\b(?:curl|wget)\b[^|\n]{0,400}\|\s{0,5}(?:sudo\s{1,5})?(?:ba|z|da)?sh\b/,
    indicators: ['curl', 'wget'],
  },
  {
    category: 'download-exec',
    severity: 'high',
    what: 'a PowerShell download piped into Invoke-Expression',
    regex:
      /\b(?:iwr|irm|invoke-webrequest|invoke-restmethod)\b[^|\n]{0,400}\|\s{0,5}(?:iex|invoke-expression)\b/,
    indicators: ['iwr', 'irm', 'invoke-'],
  },
  {
    category: 'download-exec',
    severity: 'high',
    what: 'an encoded PowerShell command (powershell -enc)',
    regex: /\bpowershell(?:\.exe)?\b[^\n]{0,200}\s-(?:enc|encodedcommand|ec)\s/,
    indicators: ['powershell'],
  },
  {
    category: 'destructive',
    severity: 'high',
    what: 'a recursive delete of the home or root directory',
    regex: /\brm\s{1,5}(?:-[a-z]{1,4}\s{1,5}){1,3}(?:~|\$home|\$\{home\}|\/)\/?\*?(?=$|[\s;&|"'`)])/,
    indicators: ['rm '],
  },
  {
    category: 'destructive',
    severity: 'high',
    what: 'a wipe of the user profile (shred / del /s /q %USERPROFILE%)',
    regex: /\b(?:del|rd|rmdir)\s{1,5}(?:\/[sqf]\s{1,5}){1,3}%userprofile%|\bshred\s{1,5}-[a-z]{0,4}u/,
    indicators: ['del ', 'rd ', 'rmdir ', 'shred '],
  },
  {
    category: 'destructive',
    severity: 'high',
    what: 'a forced shutdown of the machine',
    regex: /\bshutdown\s{1,5}(?:-h\s{1,5}(?:now|0)\b|now\b|\/s\b)/,
    indicators: ['shutdown '],
  },
];

/** AI coding CLIs that malware has driven with permission bypasses. */
export const AI_CLIS: readonly string[] = [
  'claude',
  'gemini',
  'q',
  'codex',
  'cursor-agent',
  'aider',
  'amp',
  'opencode',
  'copilot',
];

/** Flags that turn off an AI CLI's permission prompts. */
export const AI_BYPASS_FLAGS: readonly string[] = [
  '--dangerously-skip-permissions',
  '--yolo',
  '--trust-all-tools',
  '--dangerously-bypass-approvals-and-sandbox',
  '--full-auto',
  '--allow-all-tools',
];

/** A character that lower-casing or slash normalisation could change; without one a string is already normal. */
const NEEDS_NORMALISING = /[A-Z\\]|[\u0080-\uffff]/;

/** Lower-case the text and turn backslashes into slashes, so Windows paths match the same needles. */
export function normaliseForRules(text: string): string {
  // Most strings are already normal (no upper case, no backslash, all ASCII): skip the two copies.
  if (!NEEDS_NORMALISING.test(text)) return text;
  return text.toLowerCase().replace(/\\+/g, '/');
}

/** Characters that continue a name or path segment: a boundary needs something else (or the string's edge). */
function isWordChar(code: number): boolean {
  return (
    (code >= 97 && code <= 122) ||
    (code >= 48 && code <= 57) ||
    (code >= 65 && code <= 90) ||
    code === 95 /* _ */ ||
    code === 45 /* - */ ||
    code === 46 /* . */ ||
    code === 42 /* * */
  );
}

/** Offset of the first occurrence of `needle` honouring its boundaries, or -1. */
export function findNeedle(s: string, needle: Needle): number {
  let from = 0;
  for (let guard = 0; guard < 64; guard++) {
    const i = s.indexOf(needle.text, from);
    if (i < 0) return -1;
    const before = i > 0 ? s.charCodeAt(i - 1) : -1;
    const after = i + needle.text.length < s.length ? s.charCodeAt(i + needle.text.length) : -1;
    // A host name also matches as the tail of a longer one (`x.oast.fun`), never inside a longer label.
    const startOk =
      !needle.start || before < 0 || !isWordChar(before) || (before === 46 && HOST_NEEDLE.test(needle.text));
    const endOk = !needle.end || after < 0 || !isWordChar(after);
    if (startOk && endOk) return i;
    from = i + 1;
  }
  return -1;
}

/** Needles that are host names (letters in the first label), for sub-domain matching in `findNeedle`. */
const HOST_NEEDLE = /^[a-z][a-z0-9-]*(?:\.[a-z0-9-]+)+$/;

const IP_URL = /\b(?:https?|wss?|ftp|tcp):\/\/(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![\d.])/;

/** Public DNS resolvers: connectivity checks, not drop boxes. */
const PUBLIC_RESOLVERS = new Set(['1.1.1.1', '1.0.0.1', '8.8.8.8', '8.8.4.4', '9.9.9.9', '208.67.222.222']);

/**
 * True for a routable public IPv4 address (not loopback, private, link-local, CGNAT, multicast, a public DNS
 * resolver, or a placeholder with four equal octets such as 123.123.123.123). The documentation ranges
 * (192.0.2/24, 198.51.100/24, 203.0.113/24) count as public: code that ships them talks to a raw address.
 */
export function isPublicIpv4(a: number, b: number, c: number, d: number): boolean {
  if ([a, b, c, d].some((x) => x > 255)) return false;
  if (a === b && b === c && c === d) return false;
  if (PUBLIC_RESOLVERS.has(`${a}.${b}.${c}.${d}`)) return false;
  if (a === 0 || a === 10 || a === 127 || a >= 224) return false;
  if (a === 169 && b === 254) return false;
  if (a === 172 && b >= 16 && b <= 31) return false;
  if (a === 192 && b === 168) return false;
  if (a === 100 && b >= 64 && b <= 127) return false;
  if (a === 192 && b === 0 && c === 0) return false;
  if (a === 198 && (b === 18 || b === 19)) return false;
  return true;
}

/** Offset of a bypass-flagged AI CLI invocation in a command string, or -1. */
export function findAiCliAbuse(s: string): number {
  const tokens = s.split(/[\s"'`,;&|()]+/);
  let hasCli = false;
  let isGemini = false;
  let flag: string | null = null;
  for (const t of tokens) {
    if (t.length === 0) continue;
    const base = t.slice(t.lastIndexOf('/') + 1);
    if (AI_CLIS.includes(base)) {
      hasCli = true;
      if (base === 'gemini') isGemini = true;
    }
    if (flag === null && AI_BYPASS_FLAGS.includes(t)) flag = t;
    if (flag === null && (t === '-y' || t === '--approval-mode=yolo')) flag = t;
  }
  if (!hasCli || flag === null) return -1;
  if (flag === '-y' && !isGemini) return -1;
  return Math.max(0, s.indexOf(flag));
}

const escapeRegex = (w: string): string => w.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** One alternation of every needle and indicator: a string that misses it cannot hit any rule. */
const ANY_RULE = new RegExp(
  [
    ...NEEDLE_GROUPS.flatMap((g) => g.needles.map((nd) => nd.text)),
    ...REGEX_GROUPS.flatMap((g) => g.indicators),
    '://',
    ...AI_BYPASS_FLAGS,
    ' -y',
    'approval-mode',
  ]
    .map(escapeRegex)
    .join('|'),
);

/** `ANY_RULE` ignoring case: the same on text that is ASCII without backslashes as `ANY_RULE` on its lower case. */
const ANY_RULE_ANY_CASE = new RegExp(ANY_RULE.source, 'i');
/** A backslash or a non-ASCII character: text whose normalised form is more than its ASCII lower case. */
const NOT_PLAIN_ASCII = /[\\]|[\u0080-\uffff]/;

/** The answer for the many strings that hit no rule (shared, so that they allocate nothing). */
const NO_HITS: readonly StringHit[] = Object.freeze([]);

/**
 * Runs every string rule on one piece of string text (a literal, a template, a folded concatenation or a
 * command line) and returns the hits, at most one per group.
 * @example matchStringRules("~/.aws/credentials")[0]?.category // 'credential-read'
 */
export function matchStringRules(text: string): readonly StringHit[] {
  if (text.length < 4) return NO_HITS;
  const t = text.length > 200_000 ? text.slice(0, 200_000) : text;
  // Without backslashes and non-ASCII characters, normalising only lower-cases ASCII letters, which the
  // case-insensitive alternation ignores anyway: most strings are rejected here without a lower-cased copy.
  if (!NOT_PLAIN_ASCII.test(t) && !ANY_RULE_ANY_CASE.test(t)) return NO_HITS;
  const s = normaliseForRules(t);
  if (!ANY_RULE.test(s)) return NO_HITS;
  const hits: StringHit[] = [];
  for (const group of NEEDLE_GROUPS) {
    for (const needle of group.needles) {
      const at = findNeedle(s, needle);
      if (at >= 0) {
        hits.push({ category: group.category, severity: group.severity, what: group.what, offset: at });
        break;
      }
    }
  }
  for (const group of REGEX_GROUPS) {
    if (!group.indicators.some((w) => s.includes(w))) continue;
    const m = group.regex.exec(s);
    if (m)
      hits.push({ category: group.category, severity: group.severity, what: group.what, offset: m.index });
  }
  if (s.includes('://')) {
    const m = IP_URL.exec(s);
    if (m && isPublicIpv4(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]))) {
      hits.push({
        category: 'exfiltration',
        severity: 'medium',
        what: 'a URL with a raw public IP address',
        offset: m.index,
      });
    }
  }
  if (AI_BYPASS_FLAGS.some((f) => s.includes(f)) || s.includes(' -y') || s.includes('approval-mode')) {
    const at = findAiCliAbuse(s);
    if (at >= 0) {
      hits.push({
        category: 'ai-cli-abuse',
        severity: 'high',
        what: 'an AI coding CLI run with its permission checks bypassed',
        offset: at,
      });
    }
  }
  return hits;
}

/** Every lower-case substring one of which a string must contain for any string rule to fire. */
export function stringRuleIndicators(): string[] {
  const out = new Set<string>();
  for (const g of NEEDLE_GROUPS)
    for (const nd of g.needles) out.add(nd.text.startsWith('/') ? nd.text.slice(1) : nd.text);
  for (const g of REGEX_GROUPS) for (const w of g.indicators) out.add(w);
  out.add('://');
  for (const f of AI_BYPASS_FLAGS) out.add(f);
  out.add(' -y');
  out.add('approval-mode');
  return [...out];
}
