/**
 * A small tokenizer for the shell commands in package.json scripts: it splits a command into simple
 * commands ("segments") at `&&`, `||`, `;`, `|`, `&` and newlines, and each segment into words, honouring
 * single quotes, double quotes and backslashes the way POSIX sh does. It does not expand anything; what it
 * cannot follow (command substitution, subshells, an unclosed quote) marks the segment `complex`.
 */

/** The operator that joins a segment to the one before it. */
export type ShellSeparator = '&&' | '||' | ';' | '|' | '&' | '\n';

/** A redirection of a segment: `> file`, `2>&1`, `< input`. */
export interface ShellRedirect {
  op: string;
  target: string;
}

/** One simple command of a script. */
export interface ShellSegment {
  /** The words after quote removal, command first. */
  words: string[];
  /** The operator before this segment, or null for the first. */
  separator: ShellSeparator | null;
  redirects: ShellRedirect[];
  /** True when the segment holds `$(…)`, backticks, `(`/`)` or an unclosed quote: it cannot be judged by words. */
  complex: boolean;
}

/**
 * Splits a shell command into segments and words.
 * @example splitShellCommand('prebuild-install || node-gyp rebuild') // two segments, the second after `||`
 */
export function splitShellCommand(command: string): ShellSegment[] {
  const segments: ShellSegment[] = [];
  let current: ShellSegment = { words: [], separator: null, redirects: [], complex: false };
  let word = '';
  let inWord = false;
  let pendingRedirect: string | null = null;

  const endWord = (): void => {
    if (!inWord) return;
    if (pendingRedirect !== null) {
      current.redirects.push({ op: pendingRedirect, target: word });
      pendingRedirect = null;
    } else {
      current.words.push(word);
    }
    word = '';
    inWord = false;
  };
  const endSegment = (separator: ShellSeparator): void => {
    endWord();
    if (pendingRedirect !== null) current.complex = true;
    pendingRedirect = null;
    if (current.words.length > 0 || current.redirects.length > 0 || current.complex) segments.push(current);
    current = { words: [], separator, redirects: [], complex: false };
  };

  let i = 0;
  while (i < command.length) {
    const ch = command[i] as string;
    const next = command[i + 1];
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      endWord();
      i++;
    } else if (ch === '\n' || ch === ';') {
      endSegment(ch === '\n' ? '\n' : ';');
      i++;
    } else if (ch === '&' || ch === '|') {
      if (next === ch) {
        endSegment(ch === '&' ? '&&' : '||');
        i += 2;
      } else {
        endSegment(ch);
        i++;
      }
    } else if (ch === '(' || ch === ')') {
      endWord();
      current.complex = true;
      i++;
    } else if (ch === '>' || ch === '<') {
      // `2>` : a word made only of digits right before is the file descriptor, not an argument.
      if (inWord && /^\d+$/.test(word)) {
        word = '';
        inWord = false;
      }
      endWord();
      let op = ch;
      i++;
      if (command[i] === '>' && ch === '>') {
        op += '>';
        i++;
      }
      if (command[i] === '&') {
        i++;
        let target = '';
        while (i < command.length && /[0-9-]/.test(command[i] as string)) target += command[i++];
        current.redirects.push({ op: `${op}&`, target });
      } else {
        pendingRedirect = op;
      }
    } else if (ch === "'") {
      const close = command.indexOf("'", i + 1);
      inWord = true;
      if (close < 0) {
        word += command.slice(i + 1);
        current.complex = true;
        i = command.length;
      } else {
        word += command.slice(i + 1, close);
        i = close + 1;
      }
    } else if (ch === '"') {
      inWord = true;
      i++;
      let closed = false;
      while (i < command.length) {
        const c = command[i] as string;
        if (c === '"') {
          closed = true;
          i++;
          break;
        }
        if (c === '\\' && i + 1 < command.length && '"\\$`\n'.includes(command[i + 1] as string)) {
          word += command[i + 1];
          i += 2;
          continue;
        }
        if (c === '`' || (c === '$' && command[i + 1] === '(')) current.complex = true;
        word += c;
        i++;
      }
      if (!closed) current.complex = true;
    } else if (ch === '\\') {
      inWord = true;
      if (next !== undefined && next !== '\n') word += next;
      i += 2;
    } else {
      if (ch === '`' || (ch === '$' && next === '(')) current.complex = true;
      inWord = true;
      word += ch;
      i++;
    }
  }
  endSegment(';');
  return segments;
}
