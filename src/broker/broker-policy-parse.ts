/**
 * Reads a broker policy from YAML or JSON text (or an already parsed value from an API body) and validates it,
 * with errors that say where: `support.yaml:12: allow[1].scopes[0]: must not be empty`. JSON is read by the
 * same YAML 1.2 parser (JSON is a subset of YAML 1.2), so both formats map zod issue paths back to the line of
 * the node they point at.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ValidationError, type ErrorDetail } from '../core/errors.js';
import type { BrokerPolicy, PolicySource } from './broker-policy.js';
import {
  brokerPolicyDocumentSchema,
  POLICY_FIELDS,
  toBrokerPolicy,
  type BrokerPolicyDocument,
} from './broker-policy-schema.js';

/** Largest policy text accepted, in characters; real policies are a few kilobytes. */
export const MAX_POLICY_CHARS = 256 * 1024;
/** At most this many problems are listed before reading stops. */
export const MAX_POLICY_ISSUES = 20;

/** How to read a policy. */
export interface ParsePolicyOptions {
  /** When set, the policy's `agentType` must equal this name (the agent type it is being applied to). */
  expectedAgentType?: string;
  /** `yaml` or `json`; by default `json` for a `.json` file name and `yaml` otherwise. Only changes wording. */
  format?: 'yaml' | 'json';
}

/** A validated policy with the document it came from and where each field was written. */
export interface ParsedPolicy {
  policy: BrokerPolicy;
  document: BrokerPolicyDocument;
  source: PolicySource;
}

type PathSegment = string | number;

/** Formats a field path the way a reader writes it: `allow[1].scopes[0]`, `tokens["max ttl"]`. */
export function formatFieldPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else {
      const k = String(s);
      out += /^[A-Za-z_$][\w$-]*$/.test(k) ? `${out === '' ? '' : '.'}${k}` : `[${JSON.stringify(k)}]`;
    }
  }
  return out;
}

/**
 * Parses and validates a policy file. Throws ValidationError (KW_VALIDATION) whose message names the file, the
 * line and the field of the first problem, and whose details list every problem found (up to 20), in file order.
 * @example
 * const { policy, source } = parseBrokerPolicy('support.yaml', text, { expectedAgentType: 'support-agent' });
 */
export function parseBrokerPolicy(
  fileName: string,
  text: string,
  options: ParsePolicyOptions = {},
): ParsedPolicy {
  const format = options.format ?? (/\.json$/i.test(fileName) ? 'json' : 'yaml');
  const kind = format === 'json' ? 'JSON' : 'YAML';
  if (text.length > MAX_POLICY_CHARS) {
    throw policyError([
      { path: fileName, message: `the policy is larger than ${MAX_POLICY_CHARS / 1024} KiB` },
    ]);
  }
  const nul = text.indexOf('\u0000');
  const lineCounter = new LineCounter();
  if (nul !== -1) {
    const line = text.slice(0, nul).split('\n').length;
    throw policyError([
      { path: `${fileName}:${line}`, message: `the file contains a NUL byte; it is not ${kind}` },
    ]);
  }
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, strict: true, prettyErrors: false });
  const syntax = [...doc.errors, ...doc.warnings];
  if (syntax.length > 0) {
    throw policyError(
      syntax.slice(0, MAX_POLICY_ISSUES).map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return {
          path: `${fileName}:${pos.line}:${pos.col}`,
          message: `invalid ${kind}: ${yamlMessage(e.message)}`,
        };
      }),
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw policyError(
      [{ path: fileName, message: `cannot read the ${kind}: ${(err as Error).message}` }],
      err,
    );
  }
  const lines = collectLines(doc, lineCounter);
  const lineOf = (path: readonly PathSegment[]): number | null => {
    for (let n = path.length; n >= 0; n--) {
      const line = lines.get(formatFieldPath(path.slice(0, n)));
      if (line !== undefined) return line;
    }
    return null;
  };
  const where = (path: readonly PathSegment[]): Location => {
    const line = lineOf(path);
    const field = formatFieldPath(path);
    return { text: `${fileName}${line === null ? '' : `:${line}`}${field === '' ? '' : `: ${field}`}`, line };
  };
  if (value === null || value === undefined) {
    throw policyError([
      { path: fileName, message: 'the file is empty; expected a policy (agentType, owner, allow, …)' },
    ]);
  }
  const document = validate(value, where, options);
  const source: PolicySource = Object.freeze({ fileName, lines: Object.freeze(Object.fromEntries(lines)) });
  return { policy: deepFreeze(toBrokerPolicy(document)), document: deepFreeze(document), source };
}

/**
 * Validates a policy that is already a value (a JSON API body). Problems are reported at `where` plus the field
 * path: `policy.allow[1].scopes[0]: must not be empty`.
 */
export function parseBrokerPolicyValue(
  value: unknown,
  options: { where?: string; expectedAgentType?: string } = {},
): { policy: BrokerPolicy; document: BrokerPolicyDocument } {
  const base = options.where ?? 'policy';
  const where = (path: readonly PathSegment[]): Location => {
    const field = formatFieldPath(path);
    if (field === '') return { text: base, line: null };
    return { text: field.startsWith('[') ? `${base}${field}` : `${base}.${field}`, line: null };
  };
  const document = validate(value, where, options);
  return { policy: deepFreeze(toBrokerPolicy(document)), document: deepFreeze(document) };
}

/** Where a problem is: the text that starts its message and the line used to sort problems in file order. */
interface Location {
  text: string;
  line: number | null;
}

function validate(
  value: unknown,
  where: (path: readonly PathSegment[]) => Location,
  options: { expectedAgentType?: string },
): BrokerPolicyDocument {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw policyError([
      {
        path: where([]).text,
        message: `expected a mapping of policy fields (agentType, owner, allow, …), got ${typeName(value)}`,
      },
    ]);
  }
  const result = brokerPolicyDocumentSchema.safeParse(value, { reportInput: true });
  const problems: Array<{ path: PathSegment[]; message: string }> = [];
  if (!result.success) collectIssues(result.error.issues, [], problems);
  else if (options.expectedAgentType !== undefined && result.data.agentType !== options.expectedAgentType) {
    problems.push({
      path: ['agentType'],
      message: `is '${result.data.agentType}' but the policy is being applied to agent type '${options.expectedAgentType}'; the names must match`,
    });
  }
  if (problems.length > 0 || !result.success) {
    const details = problems.map((p, i) => ({ ...p, where: where(p.path), i }));
    // File order first (by line when known), then the order zod found them in.
    details.sort((a, b) => (a.where.line ?? 0) - (b.where.line ?? 0) || a.i - b.i);
    throw policyError(
      details.slice(0, MAX_POLICY_ISSUES).map((d) => ({ path: d.where.text, message: d.message })),
    );
  }
  return result.data;
}

function collectIssues(
  issues: readonly z.core.$ZodIssue[],
  base: readonly PathSegment[],
  out: Array<{ path: PathSegment[]; message: string }>,
): void {
  for (const issue of issues) {
    const path = [...base, ...(issue.path as PathSegment[])];
    if (issue.code === 'unrecognized_keys') {
      // One problem per unknown field, reported where that field is written.
      for (const key of issue.keys)
        out.push({ path: [...path, key], message: unknownFieldMessage(path, key) });
      continue;
    }
    out.push({ path, message: issueMessage(issue) });
  }
}

function unknownFieldMessage(parent: readonly PathSegment[], key: string): string {
  const known = POLICY_FIELDS[contextKey(parent)] ?? [];
  const suggestion = closest(key, known);
  return `unknown field; ${suggestion ? `did you mean ${suggestion}?` : `the fields here are ${known.join(', ')}`}`;
}

/** `['allow', 3]` → `allow[]`, the key of POLICY_FIELDS. */
function contextKey(path: readonly PathSegment[]): string {
  let out = '';
  for (const s of path) out += typeof s === 'number' ? '[]' : `${out === '' ? '' : '.'}${s}`;
  return out;
}

/** The known field closest to a misspelt one (edit distance ≤ 2, or a different letter case), or null. */
function closest(key: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = 3;
  for (const k of known) {
    const d = k.toLowerCase() === key.toLowerCase() ? 0 : editDistance(k, key);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

const TYPE_WORDS: Record<string, string> = {
  array: 'a list',
  object: 'a mapping',
  string: 'text',
  number: 'a number',
  boolean: 'true or false',
  int: 'a whole number',
};

/** Rewrites zod's generic messages in the words of a person editing a policy file; custom messages pass through. */
function issueMessage(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined) return 'is required';
      if (issue.message.startsWith('Invalid input')) {
        return `expected ${TYPE_WORDS[issue.expected] ?? issue.expected}, got ${typeName(input)}`;
      }
      return `${issue.message}, got ${typeName(input)}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => String(v)).join(', ')}`;
    default:
      return issue.message;
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return 'text';
  if (typeof v === 'boolean') return 'true or false';
  return `a ${typeof v}`;
}

/** yaml's message without its ` at line N, column M:` tail (the position is already in the path). */
function yamlMessage(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

/** Records the line of every field path in the document: a mapping key's line, a list item's first line. */
function collectLines(doc: Document, lineCounter: LineCounter): Map<string, number> {
  const lines = new Map<string, number>();
  const lineAt = (offset: number): number => lineCounter.linePos(offset).line;
  const visit = (node: unknown, path: PathSegment[], depth: number): void => {
    if (depth > 32) return;
    const n = isAlias(node) ? node.resolve(doc) : node;
    if (isMap(n)) {
      for (const pair of n.items) {
        if (!isScalar(pair.key) || pair.key.range == null) continue;
        const p = [...path, String(pair.key.value)];
        lines.set(formatFieldPath(p), lineAt(pair.key.range[0]));
        visit(pair.value, p, depth + 1);
      }
    } else if (isSeq(n)) {
      n.items.forEach((item, i) => {
        const p = [...path, i];
        const range = (item as { range?: [number, number, number] | null }).range;
        if (range) lines.set(formatFieldPath(p), lineAt(range[0]));
        visit(item, p, depth + 1);
      });
    }
  };
  const root = doc.contents as { range?: [number, number, number] | null } | null;
  if (root?.range) lines.set('', lineAt(root.range[0]));
  visit(doc.contents, [], 0);
  return lines;
}

function policyError(details: ErrorDetail[], cause?: unknown): ValidationError {
  const first = details[0]!;
  const more =
    details.length > 1 ? ` (and ${details.length - 1} more problem${details.length > 2 ? 's' : ''})` : '';
  return new ValidationError(`${first.path}: ${first.message}${more}`, {
    code: 'KW_VALIDATION',
    details,
    cause,
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
