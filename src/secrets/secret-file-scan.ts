/**
 * Scans one file: reads it as text (binaries skipped), gives structure-aware key names to values in configs
 * (.env, JSON/JSONC, YAML, MCP server entries), and reports config values under secret-like names that no
 * format rule caught.
 */
import { looksLikeGenericSecret } from './rules/generic.js';
import { positionKey, type SecretScanner, type TextScanResult } from './secret-scanner.js';
import { configFormat, extractConfigValues, type ConfigValue } from './sources/config-values.js';
import { closeSync, fstatSync, openSync, type Stats } from 'node:fs';
import {
  openStartsWithWideBom,
  readOpenScanBytes,
  readOpenScanChunks,
  SCAN_OPEN_FLAGS,
} from './secret-read.js';
import { redactedPreview } from '../core/fingerprint.js';
import { shannonEntropy } from './secret-checks.js';
import type { ScanOrigin, SecretFinding } from './secret-types.js';

/** Agent and MCP configs up to this size get structure-aware parsing; larger files are data, scanned by line. */
const MAX_STRUCTURED_BYTES = 256 * 1024;
const MAX_DOTENV_BYTES = 1024 * 1024;
// What marks a JSON or YAML file as an agent / MCP client config: Claude, Cursor, Windsurf (`mcpServers`), VS
// Code (`servers` with a `command`), Zed (`context_servers`), Codex and others (`mcp_servers`).
const AGENT_CONFIG_MARKERS = ['mcpServers', 'mcp_servers', 'context_servers', '"servers"', 'servers:'].map(
  (m) => Buffer.from(m),
);
/** Every marker holds this: a file without it is searched once, not once per marker. */
const AGENT_CONFIG_COMMON = Buffer.from('ervers');

/**
 * Whether a file gets structure-aware parsing: every .env file, and JSON/YAML files that are agent or MCP
 * configs. Other JSON and YAML are scanned by line only (the line rules read `key: value` and `"key": "value"`
 * themselves), which keeps large trees of data and manifests from paying for a full parse.
 */
export function wantsStructure(path: string, size: number, bytes: Buffer): boolean {
  const format = configFormat(path);
  if (format === 'dotenv') return size <= MAX_DOTENV_BYTES;
  if (format === null || size > MAX_STRUCTURED_BYTES) return false;
  const first = bytes.indexOf(AGENT_CONFIG_COMMON);
  if (first === -1) return false;
  // A marker cannot start before the first `ervers` less its longest prefix (`context_s`, 9 bytes).
  const from = Math.max(0, first - 9);
  return AGENT_CONFIG_MARKERS.some((m) => bytes.indexOf(m, from) !== -1);
}

/** Why a file was not scanned: what it holds, or (for a file the walk did not stat) what the walk would say. */
export type FileSkipReason = 'binary' | 'unreadable' | 'too-large' | 'symlink' | 'special';

/** What scanning one file gives. */
export type FileScanResult =
  ({ kind: 'scanned'; bytes: number } & TextScanResult) | { kind: 'skipped'; reason: FileSkipReason };

/** Scans a text whose structure may be known (a config file's values); used for files, stdin and env. */
export function scanStructuredText(
  scanner: SecretScanner,
  bytes: Buffer,
  origin: ScanOrigin,
  values: readonly ConfigValue[] | null,
): TextScanResult {
  if (!values || values.length === 0) return scanner.scanBuffer(bytes, origin);
  const keyNames = new Map<string, string>();
  for (const v of values) keyNames.set(positionKey(v.line, v.column), v.keyPath);
  const result = scanner.scanBuffer(bytes, origin, { keyNames });
  const generic = scanner.rules.find((r) => r.id === 'generic-secret-assignment');
  if (!generic) return result;
  const covered = new Set(
    [...result.findings, ...result.allowed.map((a) => a.finding)].map((f) => `${f.line}:${f.column}`),
  );
  let lines: string[] | null = null;
  for (const v of values) {
    if (covered.has(`${v.line}:${v.column}`)) continue;
    if (!looksLikeGenericSecret(v.value, v.keyName)) continue;
    // A value some rule already reported on that line (at a slightly different column) is not reported twice.
    if (result.findings.some((f) => f.line === v.line && v.value.includes(f.secret))) continue;
    const finding: SecretFinding = {
      ruleId: generic.id,
      title: generic.title,
      severity: generic.severity,
      provider: generic.provider,
      type: generic.type,
      origin,
      line: v.line,
      column: v.column,
      endColumn: v.column + v.value.length,
      keyName: v.keyPath,
      verifiedFormat: false,
      entropy: Math.round(shannonEntropy(v.value) * 100) / 100,
      fingerprint: scanner.fingerprint(v.value),
      preview: redactedPreview(v.value),
      secret: v.value,
    };
    lines ??= bytes.toString('utf8').split('\n');
    const lineText = lines[v.line - 1] ?? '';
    const prev = v.line >= 2 ? (lines[v.line - 2] ?? '') : '';
    const reason = scanner.allowReason(lineText) ?? scanner.allowReason(prev);
    if (reason) result.allowed.push({ finding, reason });
    else result.findings.push(finding);
  }
  result.findings.sort((a, b) => a.line - b.line || a.column - b.column);
  return result;
}

/** Files above this size are read and scanned in pieces (datasets, logs), so memory stays flat. */
export const STREAM_THRESHOLD_BYTES = 32 * 1024 * 1024;
const CHUNK_BYTES = 8 * 1024 * 1024;
/** What a piece reads past its own part: enough for a multi-line rule's window (a PEM block) across the cut. */
const CHUNK_MARGIN_BYTES = 64 * 1024;

/** A file of a tree to scan; `size` is what the walk's `lstat` saw, or null when the walk did not stat it. */
export interface ScanFileInput {
  path: string;
  absPath: string;
  size: number | null;
}

/**
 * Reads and scans one file of a tree; large files in pieces. A file the walk did not stat is checked here on
 * the descriptor it is read through, as the walk would have: a symlink (refused by O_NOFOLLOW) or special file
 * is skipped as such, and one larger than `maxFileBytes` as too large. A stat'ed file is read up to its walked
 * size, and reported with it.
 */
export async function scanFile(
  scanner: SecretScanner,
  file: ScanFileInput,
  origin: ScanOrigin = { kind: 'file', path: file.path },
  maxFileBytes = Infinity,
): Promise<FileScanResult> {
  const unstated = file.size === null;
  let fd: number;
  try {
    fd = openSync(file.absPath, SCAN_OPEN_FLAGS);
  } catch (err) {
    // ELOOP: O_NOFOLLOW met a symlink (EMLINK on FreeBSD).
    const code = (err as NodeJS.ErrnoException).code;
    return {
      kind: 'skipped',
      reason: unstated && (code === 'ELOOP' || code === 'EMLINK') ? 'symlink' : 'unreadable',
    };
  }
  try {
    let st: Stats;
    try {
      st = fstatSync(fd);
    } catch {
      return { kind: 'skipped', reason: 'unreadable' };
    }
    if (!st.isFile()) return { kind: 'skipped', reason: unstated ? 'special' : 'unreadable' };
    if (unstated && st.size > maxFileBytes) return { kind: 'skipped', reason: 'too-large' };
    const size = file.size ?? st.size;
    const want = Math.max(0, Math.min(size, st.size));
    // UTF-16/32 files (a byte order mark) are decoded whole; everything else above the threshold in pieces.
    if (size > STREAM_THRESHOLD_BYTES && !openStartsWithWideBom(fd)) {
      const result: TextScanResult = { findings: [], allowed: [] };
      for (const chunk of readOpenScanChunks(fd, want, CHUNK_BYTES, CHUNK_MARGIN_BYTES)) {
        if ('skipped' in chunk) return { kind: 'skipped', reason: chunk.skipped };
        const part = scanner.scanBuffer(chunk.bytes, origin, {
          firstLine: chunk.firstLine,
          reportFrom: chunk.reportFrom,
          reportTo: chunk.reportTo,
        });
        result.findings.push(...part.findings);
        result.allowed.push(...part.allowed);
      }
      return { kind: 'scanned', bytes: size, ...result };
    }
    // The bytes are read into a shared buffer: nothing below waits or keeps them, so the next file may reuse it.
    const read = readOpenScanBytes(fd, want, true);
    if ('skipped' in read) return { kind: 'skipped', reason: read.skipped };
    const values = wantsStructure(file.path, size, read.bytes)
      ? extractConfigValues(file.path, read.bytes.toString('utf8'))
      : null;
    return { kind: 'scanned', bytes: size, ...scanStructuredText(scanner, read.bytes, origin, values) };
  } finally {
    closeSync(fd);
  }
}
