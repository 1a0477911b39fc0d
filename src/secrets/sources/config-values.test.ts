import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCaseGen } from '../secret-case-gen.js';
import { configFormat, extractConfigValues, type ConfigValue } from './config-values.js';

const g = createCaseGen(11);

/** 1-based line and column of the first occurrence of `needle` in `text`. */
function posOf(text: string, needle: string, from = 0): { line: number; column: number } {
  const at = text.indexOf(needle, from);
  if (at === -1) throw new Error(`not in text: ${needle}`);
  const before = text.slice(0, at).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

/** The text at a value's reported position, as long as the value. */
function textAt(text: string, v: ConfigValue): string {
  const line = text.split('\n')[v.line - 1] ?? '';
  return line.slice(v.column - 1, v.column - 1 + v.value.length);
}

function extract(path: string, text: string): ConfigValue[] {
  const out = extractConfigValues(path, text);
  if (out === null) throw new Error(`${path} was not understood`);
  return out;
}

describe('configFormat', () => {
  it('tells formats by file name', () => {
    expect(configFormat('.env')).toBe('dotenv');
    expect(configFormat('app/.env.local')).toBe('dotenv');
    expect(configFormat('prod.env')).toBe('dotenv');
    expect(configFormat('C:\\proj\\.env.production')).toBe('dotenv');
    expect(configFormat('.env.json')).toBe('json');
    expect(configFormat('.mcp.json')).toBe('json');
    expect(configFormat('.cursor/mcp.json')).toBe('json');
    expect(configFormat('.vscode/settings.json')).toBe('json');
    expect(configFormat('tsconfig.jsonc')).toBe('json');
    expect(configFormat('claude_desktop_config.JSON')).toBe('json');
    expect(configFormat('config.yaml')).toBe('yaml');
    expect(configFormat('.github/workflows/ci.yml')).toBe('yaml');
    expect(configFormat('.codex/config.toml')).toBeNull();
    expect(configFormat('.envrc')).toBeNull();
    expect(configFormat('environment.ts')).toBeNull();
  });
});

describe('extractConfigValues: JSON and JSONC', () => {
  it('reads an MCP client config: env values, split args and Authorization headers', () => {
    const pat = g.githubToken(g.join('gh', 'p_'));
    const [k1, k2, k3, k4, k5, k6, k7] = [
      g.chars(32),
      g.chars(32),
      g.chars(32),
      g.chars(40),
      g.chars(40),
      g.hex(16),
      g.chars(24),
    ];
    const text = JSON.stringify(
      {
        mcpServers: {
          github: {
            command: 'npx',
            args: [
              '-y',
              '@modelcontextprotocol/server-github',
              '--api-key',
              k1,
              `--token=${k2}`,
              `API_KEY=${k3}`,
            ],
            env: { GITHUB_TOKEN: pat },
          },
          remote: {
            type: 'http',
            url: 'https://mcp.example.com/mcp',
            headers: { Authorization: `Bearer ${k4}` },
          },
          proxy: {
            command: 'npx',
            args: [
              'mcp-remote',
              'https://mcp.example.com/sse',
              '--header',
              `Authorization: Bearer ${k5}`,
              '--header',
              `X-Api-Key: ${k6}`,
              '--port',
              '8080',
              '-e',
              `lower=${k7}`,
            ],
          },
        },
      },
      null,
      2,
    );
    const values = extract('.mcp.json', text);
    const byPath = Object.fromEntries(values.map((v) => [v.keyPath, v]));
    expect(byPath['mcpServers.github.env.GITHUB_TOKEN']).toEqual({
      keyPath: 'mcpServers.github.env.GITHUB_TOKEN',
      keyName: 'GITHUB_TOKEN',
      value: pat,
      ...posOf(text, pat),
    });
    expect(values.map((v) => [v.keyPath, v.keyName, v.value])).toEqual([
      ['mcpServers.github.command', 'command', 'npx'],
      ['mcpServers.github.args[0]', 'args', '-y'],
      ['mcpServers.github.args[1]', 'args', '@modelcontextprotocol/server-github'],
      ['mcpServers.github.args[2]', 'args', '--api-key'],
      ['mcpServers.github.args[3]', 'api-key', k1],
      ['mcpServers.github.args[4]', 'token', k2],
      ['mcpServers.github.args[5]', 'API_KEY', k3],
      ['mcpServers.github.env.GITHUB_TOKEN', 'GITHUB_TOKEN', pat],
      ['mcpServers.remote.type', 'type', 'http'],
      ['mcpServers.remote.url', 'url', 'https://mcp.example.com/mcp'],
      ['mcpServers.remote.headers.Authorization', 'Authorization', k4],
      ['mcpServers.proxy.command', 'command', 'npx'],
      ['mcpServers.proxy.args[0]', 'args', 'mcp-remote'],
      ['mcpServers.proxy.args[1]', 'args', 'https://mcp.example.com/sse'],
      ['mcpServers.proxy.args[2]', 'args', '--header'],
      ['mcpServers.proxy.args[3]', 'Authorization', k5],
      ['mcpServers.proxy.args[4]', 'args', '--header'],
      ['mcpServers.proxy.args[5]', 'X-Api-Key', k6],
      ['mcpServers.proxy.args[6]', 'args', '--port'],
      ['mcpServers.proxy.args[7]', 'port', '8080'],
      ['mcpServers.proxy.args[8]', 'args', '-e'],
      ['mcpServers.proxy.args[9]', 'lower', k7],
    ]);
    // Every position points at the value itself, also inside split args and headers.
    for (const v of values) expect(textAt(text, v)).toBe(v.value);
    expect(byPath['mcpServers.remote.headers.Authorization']).toMatchObject(posOf(text, k4));
    expect(byPath['mcpServers.github.args[4]']).toMatchObject(posOf(text, k2));
  });

  it('does not split args outside a server entry (no command)', () => {
    const text = '{"tool": {"args": ["--token", "abc", "A=b"]}}';
    expect(extract('x.json', text).map((v) => [v.keyName, v.value])).toEqual([
      ['args', '--token'],
      ['args', 'abc'],
      ['args', 'A=b'],
    ]);
  });

  it('reads JSONC with comments and trailing commas (VS Code mcp.json, settings.json)', () => {
    const key = g.chars(36);
    const text = [
      '// VS Code MCP servers',
      '{',
      '  "inputs": [ /* prompted */ ],',
      '  "servers": {',
      '    "search": {',
      '      "command": "uvx",',
      '      "env": { "SEARCH_API_KEY": "' + key + '", },',
      '    },',
      '  },',
      '}',
    ].join('\n');
    const values = extract('.vscode/mcp.json', text);
    expect(values).toEqual([
      { keyPath: 'servers.search.command', keyName: 'command', value: 'uvx', line: 6, column: 19 },
      {
        keyPath: 'servers.search.env.SEARCH_API_KEY',
        keyName: 'SEARCH_API_KEY',
        value: key,
        ...posOf(text, key),
      },
    ]);
  });

  it('formats odd keys, keeps array indices and leaves out empty strings and non-strings', () => {
    const text = '{"@scope/pkg": {"x.y": ["", "v", 1, true, null, {"k": "w"}]}, "ok": "z"}';
    expect(extract('a.json', text).map((v) => [v.keyPath, v.keyName, v.value])).toEqual([
      ['["@scope/pkg"]["x.y"][1]', 'x.y', 'v'],
      ['["@scope/pkg"]["x.y"][5].k', 'k', 'w'],
      ['ok', 'ok', 'z'],
    ]);
  });

  it('decodes escapes and reports the position of the opening character', () => {
    const text = '{\n  "a": "x\\u0041\\"y",\n  "Authorization": "Basic \\u0041bc"\n}';
    expect(extract('a.json', text)).toEqual([
      { keyPath: 'a', keyName: 'a', value: 'xA"y', line: 2, column: 9 },
      { keyPath: 'Authorization', keyName: 'Authorization', value: 'Abc', line: 3, column: 21 },
    ]);
  });

  it('reads a scalar root and returns null for malformed or empty JSON', () => {
    expect(extract('a.json', '"solo"')).toEqual([
      { keyPath: '', keyName: '', value: 'solo', line: 1, column: 2 },
    ]);
    expect(extractConfigValues('a.json', '{"a": ')).toBeNull();
    expect(extractConfigValues('a.json', '{"a": "b"} trailing')).toBeNull();
    expect(extractConfigValues('a.json', '')).toBeNull();
  });
});

describe('extractConfigValues: YAML', () => {
  it('reads mappings, sequences, quoted, block and numeric-looking scalars with positions', () => {
    const [t1, t2, t3, t4] = [g.chars(40), g.chars(30), g.base64(30), g.chars(20)];
    const text = [
      'mcpServers:',
      '  - name: gh',
      '    command: npx',
      '    args:',
      '      - --api-key',
      `      - "${t1}"`,
      '    env:',
      `      GITHUB_TOKEN: ${t2}   # comment`,
      'models:',
      "  - apiKey: 'it''s'",
      '    headers:',
      `      Authorization: Bearer ${t4}`,
      'block: |',
      `  ${t3}`,
      '  second line',
      'num: 12345e7',
      'flag: true',
      'anchor: &a shared',
      'alias: *a',
    ].join('\n');
    const values = extract('config.yaml', text);
    expect(values.map((v) => [v.keyPath, v.keyName, v.value])).toEqual([
      ['mcpServers[0].name', 'name', 'gh'],
      ['mcpServers[0].command', 'command', 'npx'],
      ['mcpServers[0].args[0]', 'args', '--api-key'],
      ['mcpServers[0].args[1]', 'api-key', t1],
      ['mcpServers[0].env.GITHUB_TOKEN', 'GITHUB_TOKEN', t2],
      ['models[0].apiKey', 'apiKey', "it's"],
      ['models[0].headers.Authorization', 'Authorization', t4],
      ['block', 'block', `${t3}\nsecond line\n`],
      ['num', 'num', '12345e7'],
      ['anchor', 'anchor', 'shared'],
    ]);
    const at = (p: string): ConfigValue => values.find((v) => v.keyPath === p)!;
    expect(at('mcpServers[0].args[1]')).toMatchObject(posOf(text, t1));
    expect(at('mcpServers[0].env.GITHUB_TOKEN')).toMatchObject(posOf(text, t2));
    expect(at('models[0].apiKey')).toMatchObject({ line: 10, column: 14 });
    expect(at('models[0].headers.Authorization')).toMatchObject(posOf(text, t4));
    expect(at('block')).toMatchObject(posOf(text, t3));
    expect(at('num')).toMatchObject({ line: 16, column: 6 });
  });

  it('reads every document of a stream and returns null for malformed YAML', () => {
    expect(extract('k.yml', 'a: x\n---\nb: y\n').map((v) => [v.keyPath, v.value])).toEqual([
      ['a', 'x'],
      ['b', 'y'],
    ]);
    expect(extract('k.yml', '# only a comment\n')).toEqual([]);
    expect(extractConfigValues('k.yml', 'a: [\nb: }')).toBeNull();
    expect(extractConfigValues('k.yml', 'a: "unterminated\n')).toBeNull();
  });

  it('keeps duplicate keys rather than failing on them', () => {
    expect(extract('d.yaml', 'a: 1x\na: 2y\n').map((v) => v.value)).toEqual(['1x', '2y']);
  });
});

describe('extractConfigValues: dotenv', () => {
  it('reads dotenv syntax with the position of each value', () => {
    const tok = g.chars(32);
    const text = [
      '# comment',
      '',
      'export A=plain',
      '  B = "double \\"q\\" and\\nnewline"',
      "C='single # not a comment'",
      'D=value # a comment',
      `E=${tok}#not-a-comment`,
      'F="multi',
      'line"  # trailing comment',
      'G=',
      'H=   # only a comment',
      'I=`back tick`',
      'J=#starts-with-hash',
      'K.dotted-name=ok\r',
    ].join('\n');
    expect(extract('.env', text)).toEqual([
      { keyPath: 'A', keyName: 'A', value: 'plain', line: 3, column: 10 },
      { keyPath: 'B', keyName: 'B', value: 'double "q" and\nnewline', line: 4, column: 8 },
      { keyPath: 'C', keyName: 'C', value: 'single # not a comment', line: 5, column: 4 },
      { keyPath: 'D', keyName: 'D', value: 'value', line: 6, column: 3 },
      { keyPath: 'E', keyName: 'E', value: `${tok}#not-a-comment`, line: 7, column: 3 },
      { keyPath: 'F', keyName: 'F', value: 'multi\nline', line: 8, column: 4 },
      { keyPath: 'I', keyName: 'I', value: 'back tick', line: 12, column: 4 },
      { keyPath: 'J', keyName: 'J', value: '#starts-with-hash', line: 13, column: 3 },
      { keyPath: 'K.dotted-name', keyName: 'K.dotted-name', value: 'ok', line: 14, column: 15 },
    ]);
  });

  it('reads CRLF files and .env.* / *.env names', () => {
    expect(extract('.env.local', 'A="x"\r\nB=y\r\n')).toEqual([
      { keyPath: 'A', keyName: 'A', value: 'x', line: 1, column: 4 },
      { keyPath: 'B', keyName: 'B', value: 'y', line: 2, column: 3 },
    ]);
    expect(extract('deploy/prod.env', 'X=1')).toHaveLength(1);
  });

  it('returns null for text that is not dotenv', () => {
    expect(extractConfigValues('.env', 'this is prose\n')).toBeNull();
    expect(extractConfigValues('.env', 'A="unterminated\n')).toBeNull();
    expect(extractConfigValues('.env', 'A="x" junk\n')).toBeNull();
    expect(extractConfigValues('.env', '=value\n')).toBeNull();
  });
});

describe('extractConfigValues: robustness', () => {
  it('returns null for files it does not understand, TOML included', () => {
    expect(extractConfigValues('config.toml', 'a = "b"')).toBeNull();
    expect(extractConfigValues('notes.txt', 'A=b')).toBeNull();
  });

  it('never throws, and every reported position lies inside the text', () => {
    const paths = ['.env', 'a.json', 'a.yaml'];
    fc.assert(
      fc.property(fc.constantFrom(...paths), fc.string({ maxLength: 200 }), (path, text) => {
        const out = extractConfigValues(path, text);
        if (out === null) return;
        const lines = text.split('\n');
        for (const v of out) {
          expect(v.line).toBeGreaterThanOrEqual(1);
          expect(v.line).toBeLessThanOrEqual(lines.length);
          expect(v.column).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 300, seed: 42 },
    );
  });
});
