/**
 * A forgiving scanner for JavaScript that acorn could not parse: it skips `//` and `/* *\/` comments and yields
 * the contents of string-like tokens ('…', "…", `…`) with their 1-based line and column. It never throws and
 * runs in one linear pass; regex literals are not recognised (a quote inside one may start a bogus string, which
 * ends at the end of that line).
 */

/** One string-like token: its raw contents (escapes left as written) and where it starts. */
export interface StringToken {
  value: string;
  /** 0-based offset of the opening quote. */
  offset: number;
  line: number;
  column: number;
}

/** Scans `text` for string-like tokens outside comments, at most `limit` of them. */
export function scanStringTokens(text: string, limit = 200_000): StringToken[] {
  const out: StringToken[] = [];
  const len = text.length;
  let i = 0;
  let line = 1;
  let lineStart = 0;
  while (i < len && out.length < limit) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line++;
      i++;
      lineStart = i;
      continue;
    }
    if (c === 47 /* / */ && i + 1 < len) {
      const d = text.charCodeAt(i + 1);
      if (d === 47) {
        while (i < len && text.charCodeAt(i) !== 10) i++;
        continue;
      }
      if (d === 42) {
        i += 2;
        while (i < len && !(text.charCodeAt(i) === 42 && text.charCodeAt(i + 1) === 47)) {
          if (text.charCodeAt(i) === 10) {
            line++;
            lineStart = i + 1;
          }
          i++;
        }
        i += 2;
        continue;
      }
    }
    if (c === 39 || c === 34 || c === 96) {
      const startLine = line;
      const startCol = i - lineStart + 1;
      const quote = c;
      let j = i + 1;
      while (j < len) {
        const e = text.charCodeAt(j);
        if (e === 92 /* \ */) {
          if (text.charCodeAt(j + 1) === 10) {
            line++;
            lineStart = j + 2;
          }
          j += 2;
          continue;
        }
        if (e === quote) break;
        if (e === 10) {
          if (quote !== 96) break; // an unterminated ordinary string ends at the line end
          line++;
          lineStart = j + 1;
        }
        j++;
      }
      const value = text.slice(i + 1, Math.min(j, len));
      out.push({ value, offset: i, line: startLine, column: startCol });
      i = j < len && text.charCodeAt(j) === quote ? j + 1 : j;
      continue;
    }
    i++;
  }
  return out;
}
