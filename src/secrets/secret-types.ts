/**
 * The shapes of the secret scanner: rules (what a credential looks like), scan inputs (text with a place) and
 * findings (where a credential was found, by fingerprint and redacted preview; the value itself stays in memory).
 */
import type { CredentialType } from '../core/types.js';

/** Severity of a finding, lowest first. */
export const SECRET_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type SecretSeverity = (typeof SECRET_SEVERITIES)[number];

/** Deterministic generator of token-shaped test values, so no live-looking key is ever committed. */
export interface CaseGen {
  /** `length` characters drawn from `alphabet` (default base62), different on every call. */
  chars(length: number, alphabet?: string): string;
  /** A GitHub-style token: prefix + 30 random base62 chars + 6-char base62 CRC32 of the random part (40 chars for ghp_). */
  githubToken(prefix: string): string;
  /** Base64 (standard alphabet, padded) of `bytes` random bytes. */
  base64(bytes: number): string;
  /** Base64url (no padding) of `bytes` random bytes. */
  base64url(bytes: number): string;
  /** Lower-case hex of `bytes` random bytes. */
  hex(bytes: number): string;
  /** A syntactically valid unsigned-looking JWT (header.payload.signature) with the given payload claims. */
  jwt(claims?: Record<string, unknown>): string;
  /** Joins parts: lets a source file spell a prefix apart from its body (`g.join('gh', 'p_', body)`). */
  join(...parts: string[]): string;
}

/** A context a rule's cases are built in. */
export interface RuleCases {
  /** Lines or snippets the rule must report (each at least once, with this rule's id). */
  positives: (g: CaseGen) => string[];
  /** Lines or snippets the rule must not report (placeholders, wrong checksum, wrong length, prose). */
  negatives: (g: CaseGen) => string[];
}

/** Where a candidate sits, for checks that look around it (an AWS secret key near its access key id). */
export interface CheckContext {
  /** The whole scanned text (a file, a commit's added lines). */
  text: string;
  /** Offset of the match in `text`. */
  offset: number;
}

/** A credential type the scanner knows: meta, a keyword prefilter, a pattern and an exact format check. */
export interface SecretRule {
  /** Stable kebab-case id: `github-pat-classic`, `openai-project-key`. */
  id: string;
  title: string;
  severity: SecretSeverity;
  /** Issuing service: `github`, `openai`, `aws`, … or `generic`. */
  provider: string;
  /** Inventory credential type the finding is recorded as. */
  type: CredentialType;
  /**
   * Literal strings (matched case-insensitively); the rule's pattern only runs on lines holding at least one.
   * Choose the most specific text every match contains (`ghp_`, `sk-ant-api03-`, `hooks.slack.com`).
   */
  keywords: readonly string[];
  /**
   * The pattern, without flags (the engine adds `g`, and `i` only when `ignoreCase`). The credential value is the
   * named group `secret` when present, else the whole match. Written to run in linear time: no nested quantifiers.
   */
  pattern: RegExp;
  ignoreCase?: boolean;
  /** Exact format check of the value (checksum, decoded structure); a false result drops the candidate. */
  check?: (secret: string, match: RegExpExecArray, ctx: CheckContext) => boolean;
  /** True when pattern + check fully determine the format (prefix, exact length, alphabet, checksum if any). */
  verifiedFormat: boolean;
  /** Minimum Shannon entropy (bits per character) of the value; lower-entropy candidates are dropped. */
  minEntropy?: number;
  /** The pattern may span lines (PEM blocks); the engine then matches on a window that starts at the keyword. */
  multiline?: boolean;
  /**
   * A cheap test of the bytes right after a keyword occurrence (`at` is the index after the keyword's last byte):
   * an occurrence it refuses does not make the rule run on that line. It only saves work (`password` in prose
   * is not followed by `=` or `:`), so it must accept everything the pattern could match there.
   */
  afterKeyword?: (bytes: Uint8Array, at: number) => boolean;
  /**
   * Where the search goes on when a candidate is refused: after the first match of this pattern inside the refused
   * value (without it, or when it does not occur there, after the refused match). A value that runs over further
   * assignments (`url=x&password=…`: the value of `url` holds the assignment to `password`) then does not hide them.
   */
  resumeAfter?: RegExp;
  /** Keywords count only where they start a word (after a non-letter or at a camelCase hump): `lob` in `LOB_KEY` or `myLobKey`, not in `global`. */
  keywordStartsWord?: boolean;
  /**
   * The rule also runs on this many lines before and after a line holding one of its keywords: for a value whose
   * identifying neighbour sits on another line (an AWS secret access key a few lines from its key id).
   */
  keywordReach?: number;
  /** Provider documentation of the format, when there is one. */
  docs?: string;
  tags?: readonly string[];
  cases: RuleCases;
}

/** Where a piece of scanned text came from. */
export interface ScanOrigin {
  /** `file`, `git` (an added line of a commit), `staged`, `stdin`, `env`. */
  kind: 'file' | 'git' | 'staged' | 'stdin' | 'env';
  /** Path relative to the scan root (or `-` for stdin, the variable name for env). */
  path: string;
  commit?: { sha: string; author: string; email: string; date: string; message: string };
}

/** One credential found. The value is kept only in memory (`secret`) and never printed, logged or stored. */
export interface SecretFinding {
  ruleId: string;
  title: string;
  severity: SecretSeverity;
  provider: string;
  type: CredentialType;
  origin: ScanOrigin;
  /** 1-based line and column of the value's first character; endColumn is exclusive. */
  line: number;
  column: number;
  endColumn: number;
  /** The variable or key the value sits under, when the scanner could tell (`OPENAI_API_KEY`). */
  keyName: string | null;
  verifiedFormat: boolean;
  /** Shannon entropy (bits per character) of the value, two decimals. */
  entropy: number;
  /** HMAC-SHA-256 of the value under the scan's fingerprint key. */
  fingerprint: string;
  /** `ghp_…a1B2`. */
  preview: string;
  /** The value; never serialised (see `publicFinding`). */
  secret: string;
}
