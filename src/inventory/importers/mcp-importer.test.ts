import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.js';
import { createFingerprinter } from '../../core/fingerprint.js';
import { mcpImporter } from './mcp-importer.js';

const fingerprinter = createFingerprinter(Buffer.alloc(32, 7));
const ctx = { fingerprinter, now: '2025-06-01T00:00:00.000Z' };
const fixture = (name: string): Buffer => readFileSync(new URL(`./fixtures/mcp/${name}`, import.meta.url));
const parse = (fileName: string, content: Buffer | string) =>
  mcpImporter.parse({ fileName, content: Buffer.isBuffer(content) ? content : Buffer.from(content) }, ctx);

function importError(fileName: string, content: Buffer | string): ValidationError {
  try {
    parse(fileName, content);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe('KW_INVALID_IMPORT');
    return err as ValidationError;
  }
  throw new Error('expected the import to fail');
}

describe('mcp importer: Claude Desktop config', () => {
  const batch = parse('claude_desktop_config.json', fixture('claude_desktop_config.json'));
  const ref = (server: string) => ({
    provider: 'mcp',
    externalId: `claude_desktop_config.json#mcpServers.${server}`,
  });

  it('makes one mcp-server identity per server, keyed by file and server name', () => {
    expect(batch.identities.map((i) => [i.name, i.kind, i.provider, i.externalId])).toEqual([
      ['github', 'mcp-server', 'mcp', 'claude_desktop_config.json#mcpServers.github'],
      ['postgres', 'mcp-server', 'mcp', 'claude_desktop_config.json#mcpServers.postgres'],
      ['brave-search', 'mcp-server', 'mcp', 'claude_desktop_config.json#mcpServers.brave-search'],
      ['filesystem', 'mcp-server', 'mcp', 'claude_desktop_config.json#mcpServers.filesystem'],
      ['slack', 'mcp-server', 'mcp', 'claude_desktop_config.json#mcpServers.slack'],
      ['aws-kb-retrieval', 'mcp-server', 'mcp', 'claude_desktop_config.json#mcpServers.aws-kb-retrieval'],
      ['notes', 'mcp-server', 'mcp', 'claude_desktop_config.json#mcpServers.notes'],
    ]);
    expect(batch.identities[1]!.attributes).toEqual({
      configFile: 'claude_desktop_config.json',
      transport: 'stdio',
      command: 'npx',
      args: [
        '-y',
        '@modelcontextprotocol/server-postgres',
        'postgresql://reporting:<redacted>@db.internal.example.com:5432/analytics',
      ],
    });
    expect(batch.identities[4]!.attributes).toMatchObject({ envKeys: ['SLACK_BOT_TOKEN', 'SLACK_TEAM_ID'] });
    // A reference to an environment variable in an argument is not a credential and stays as written.
    expect(batch.identities[6]!.attributes?.args).toEqual([
      'mcp-notes',
      '--api-key=${NOTES_API_KEY}',
      '--vault',
      '~/notes',
    ]);
  });

  it('records each secret with its type, provider, preview and the JSON key path and line where it sits', () => {
    expect(batch.credentials).toEqual([
      {
        identity: ref('github'),
        type: 'pat',
        provider: 'github',
        fingerprint: fingerprinter.fingerprint('ghp_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE1234'),
        fingerprintSource: 'value',
        preview: 'ghp_…1234',
        externalId: null,
        name: 'GITHUB_PERSONAL_ACCESS_TOKEN',
        status: 'active',
        expiresAt: null,
        attributes: { classic: true, detectedBy: 'format ghp_' },
        locations: [
          {
            kind: 'config',
            path: 'claude_desktop_config.json',
            line: 7,
            key: 'mcpServers.github.env.GITHUB_PERSONAL_ACCESS_TOKEN',
          },
        ],
      },
      {
        identity: ref('postgres'),
        type: 'connection-string',
        provider: 'postgres',
        fingerprint: fingerprinter.fingerprint('FAKEpassw0rd-EXAMPLE'),
        fingerprintSource: 'value',
        preview: 'FAKE…MPLE',
        externalId: null,
        name: 'args[2]',
        status: 'active',
        expiresAt: null,
        attributes: {
          scheme: 'postgresql',
          host: 'db.internal.example.com:5432',
          detectedBy: 'connection string with password',
        },
        locations: [
          {
            kind: 'config',
            path: 'claude_desktop_config.json',
            line: 15,
            key: 'mcpServers.postgres.args[2]',
          },
        ],
      },
      {
        identity: ref('brave-search'),
        type: 'api-key',
        provider: 'brave',
        fingerprint: fingerprinter.fingerprint('BSAFAKEq8Zr2EXAMPLEkT7wLm4Nd0Vx'),
        fingerprintSource: 'value',
        preview: 'BSAF…d0Vx',
        externalId: null,
        name: 'BRAVE_API_KEY',
        status: 'active',
        expiresAt: null,
        attributes: { detectedBy: 'key name BRAVE_API_KEY' },
        locations: [
          {
            kind: 'config',
            path: 'claude_desktop_config.json',
            line: 22,
            key: 'mcpServers.brave-search.env.BRAVE_API_KEY',
          },
        ],
      },
      {
        identity: ref('slack'),
        type: 'oauth-token',
        provider: 'slack',
        fingerprint: fingerprinter.fingerprint('xoxb-0000000000-0000000000000-FAKEFAKEFAKEFAKEFAKEFAKE'),
        fingerprintSource: 'value',
        preview: 'xoxb…FAKE',
        externalId: null,
        name: 'SLACK_BOT_TOKEN',
        status: 'active',
        expiresAt: null,
        attributes: { tokenKind: 'bot', detectedBy: 'format xox?-' },
        locations: [
          {
            kind: 'config',
            path: 'claude_desktop_config.json',
            line: 33,
            key: 'mcpServers.slack.env.SLACK_BOT_TOKEN',
          },
        ],
      },
      {
        // The key id and the secret beside it are one AWS access key: fingerprinted by the secret, known by the id.
        identity: ref('aws-kb-retrieval'),
        type: 'access-key',
        provider: 'aws',
        fingerprint: fingerprinter.fingerprint('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'),
        fingerprintSource: 'value',
        preview: 'wJal…EKEY',
        externalId: 'AKIAIOSFODNN7EXAMPLE',
        name: 'AWS_SECRET_ACCESS_KEY',
        status: 'active',
        expiresAt: null,
        attributes: { detectedBy: 'key name AWS_SECRET_ACCESS_KEY' },
        locations: [
          {
            kind: 'config',
            path: 'claude_desktop_config.json',
            line: 41,
            key: 'mcpServers.aws-kb-retrieval.env.AWS_ACCESS_KEY_ID',
          },
          {
            kind: 'config',
            path: 'claude_desktop_config.json',
            line: 42,
            key: 'mcpServers.aws-kb-retrieval.env.AWS_SECRET_ACCESS_KEY',
          },
        ],
      },
    ]);
    expect(batch.grants).toEqual([]);
    expect(batch.resources).toEqual([]);
    expect(batch.people).toEqual([]);
  });

  it('puts no secret value anywhere in the batch', () => {
    const text = JSON.stringify(batch);
    for (const secret of [
      'FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE1234',
      'FAKEpassw0rd-EXAMPLE',
      'BSAFAKEq8Zr2EXAMPLEkT7wLm4Nd0Vx',
      'bPxRfiCYEXAMPLEKEY',
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('produces the identical batch when the same file is imported twice', () => {
    expect(parse('claude_desktop_config.json', fixture('claude_desktop_config.json'))).toEqual(batch);
  });
});

describe('mcp importer: Cursor config', () => {
  const batch = parse('.cursor/mcp.json', fixture('cursor-mcp.json'));
  const key = (c: (typeof batch.credentials)[number]) => [c.type, c.provider, c.preview, c.name, c.locations];

  it('finds secrets in CLI flags, URL query parameters and headers; ignores references', () => {
    expect(batch.credentials.map(key)).toEqual([
      [
        'api-key',
        'openai',
        'sk-p…MPLE',
        '--api-key',
        [{ kind: 'config', path: '.cursor/mcp.json', line: 9, key: 'mcpServers.openai-tools.args[1]' }],
      ],
      [
        'pat',
        'gitlab',
        'glpa…FAKE',
        '--token',
        [{ kind: 'config', path: '.cursor/mcp.json', line: 13, key: 'mcpServers.gitlab.args[3]' }],
      ],
      [
        'api-key',
        'unknown',
        'FAKE…d0Vx',
        'api_key',
        [{ kind: 'config', path: '.cursor/mcp.json', line: 17, key: 'mcpServers.search.url?api_key' }],
      ],
      [
        'jwt',
        'unknown',
        'eyJh…TURE',
        'Authorization',
        [
          {
            kind: 'config',
            path: '.cursor/mcp.json',
            line: 22,
            key: 'mcpServers.internal-api.headers.Authorization',
          },
        ],
      ],
    ]);
    // The bearer JWT's expiry comes from its exp claim.
    expect(batch.credentials[3]!.expiresAt).toBe('2027-01-01T00:00:00.000Z');
    expect(batch.credentials[3]!.attributes).toEqual({
      issuer: 'https://auth.example.com',
      scheme: 'bearer',
      detectedBy: 'Bearer format JWT',
    });
  });

  it('records transport, URL without query and host, and args with secrets redacted', () => {
    const attrs = Object.fromEntries(batch.identities.map((i) => [i.name, i.attributes]));
    expect(attrs.linear).toEqual({
      configFile: '.cursor/mcp.json',
      transport: 'stdio',
      command: 'npx',
      args: [
        '-y',
        'mcp-remote',
        'https://mcp.linear.app/sse',
        '--header',
        'Authorization: Bearer ${LINEAR_TOKEN}',
      ],
    });
    expect(attrs['openai-tools']!.args).toEqual([
      './tools/openai-mcp.js',
      '--api-key=<redacted>',
      '--model',
      'gpt-4.1',
    ]);
    expect(attrs.gitlab!.args).toEqual([
      '-y',
      '@modelcontextprotocol/server-gitlab',
      '--token',
      '<redacted>',
    ]);
    expect(attrs.search).toEqual({
      configFile: '.cursor/mcp.json',
      transport: 'sse',
      url: 'https://search.example.com/mcp/sse',
      host: 'search.example.com',
    });
    expect(attrs['internal-api']).toMatchObject({
      transport: 'http',
      host: 'mcp.internal.example.com',
      headerNames: ['Authorization', 'X-Team'],
    });
  });
});

describe('mcp importer: VS Code config', () => {
  const batch = parse('.vscode/mcp.json', fixture('vscode-mcp.json'));

  it('reads the top-level "servers" object and treats ${input:…} values as references', () => {
    expect(batch.identities.map((i) => [i.externalId, i.attributes?.transport])).toEqual([
      ['.vscode/mcp.json#servers.github', 'http'],
      ['.vscode/mcp.json#servers.perplexity', 'stdio'],
      ['.vscode/mcp.json#servers.sentry', 'stdio'],
    ]);
    expect(batch.credentials).toHaveLength(1);
    expect(batch.credentials[0]).toMatchObject({
      identity: { provider: 'mcp', externalId: '.vscode/mcp.json#servers.sentry' },
      type: 'api-key',
      provider: 'sentry',
      preview: 'sntr…MPLE',
      locations: [
        { kind: 'config', path: '.vscode/mcp.json', line: 31, key: 'servers.sentry.env.SENTRY_AUTH_TOKEN' },
      ],
    });
  });
});

describe('mcp importer: other shapes', () => {
  it("reads Claude Code's per-project servers and Windsurf's serverUrl", () => {
    const text = JSON.stringify(
      {
        projects: {
          '/home/dev/app': {
            mcpServers: { db: { type: 'stdio', command: 'db-mcp', env: { DB_PASSWORD: 'FAKE-Pa55word' } } },
          },
        },
        mcpServers: {
          docs: { serverUrl: 'https://docs.example.com/mcp?token=FAKEq8Zr2EXAMPLEkT7wLm4Nd0Vx' },
        },
      },
      null,
      2,
    );
    const batch = parse('.claude.json', text);
    expect(
      batch.identities.map((i) => [i.name, i.externalId, i.attributes?.transport, i.attributes?.project]),
    ).toEqual([
      ['docs', '.claude.json#mcpServers.docs', 'http', undefined],
      ['db', '.claude.json#projects["/home/dev/app"].mcpServers.db', 'stdio', '/home/dev/app'],
    ]);
    expect(
      batch.credentials.map((c) => [c.type, c.name, c.locations![0]!.key, c.locations![0]!.line]),
    ).toEqual([
      ['api-key', 'token', 'mcpServers.docs.serverUrl?token', 17],
      ['password', 'DB_PASSWORD', 'projects["/home/dev/app"].mcpServers.db.env.DB_PASSWORD', 9],
    ]);
  });

  it('finds docker -e KEY=value secrets and key=value headers given with --header', () => {
    const batch = parse(
      'mcp.json',
      JSON.stringify({
        mcpServers: {
          gh: {
            command: 'docker',
            args: [
              'run',
              '-e',
              'GITHUB_TOKEN=github_pat_11FAKEFAKE0EXAMPLE_FAKEFAKEFAKEFAKEFAKEFAKE',
              'ghcr.io/github/github-mcp-server',
            ],
          },
          remote: {
            command: 'npx',
            args: [
              'mcp-remote',
              'https://x.example.com/mcp',
              '--header',
              'X-Api-Key:FAKEq8Zr2EXAMPLEkT7wLm4Nd0Vx',
            ],
          },
        },
      }),
    );
    expect(batch.credentials.map((c) => [c.type, c.provider, c.name, c.attributes])).toEqual([
      ['pat', 'github', 'GITHUB_TOKEN', { fineGrained: true, detectedBy: 'format github_pat_' }],
      ['api-key', 'unknown', 'X-Api-Key', { detectedBy: 'key name X-Api-Key' }],
    ]);
    expect(batch.identities.map((i) => i.attributes?.args)).toEqual([
      ['run', '-e', 'GITHUB_TOKEN=<redacted>', 'ghcr.io/github/github-mcp-server'],
      ['mcp-remote', 'https://x.example.com/mcp', '--header', 'X-Api-Key: <redacted>'],
    ]);
  });

  it('merges one secret used twice by the same server into one credential with both locations', () => {
    const token = 'ghp_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE9999';
    const batch = parse(
      'mcp.json',
      JSON.stringify(
        { mcpServers: { gh: { command: 'gh-mcp', args: ['--token', token], env: { GH_TOKEN: token } } } },
        null,
        2,
      ),
    );
    expect(batch.credentials).toHaveLength(1);
    expect(batch.credentials[0]!.locations).toEqual([
      { kind: 'config', path: 'mcp.json', line: 7, key: 'mcpServers.gh.args[1]' },
      { kind: 'config', path: 'mcp.json', line: 10, key: 'mcpServers.gh.env.GH_TOKEN' },
    ]);
  });

  it('accepts an empty mcpServers object', () => {
    expect(parse('mcp.json', '{"mcpServers": {}}').identities).toEqual([]);
  });
});

describe('mcp importer: bad input', () => {
  it('gives line:column for truncated JSON', () => {
    const err = importError('claude_desktop_config.json', fixture('truncated.json'));
    expect(err.message).toBe(
      'claude_desktop_config.json:8:1: invalid JSON: unexpected end of file: an object is not closed (the JSON is truncated)',
    );
    expect(err.details).toEqual([
      {
        path: 'claude_desktop_config.json:8:1',
        message: 'unexpected end of file: an object is not closed (the JSON is truncated)',
      },
    ]);
  });

  it('gives line:column for a trailing comma', () => {
    const err = importError('mcp.json', fixture('trailing-comma.json'));
    expect(err.message).toBe('mcp.json:6:5: invalid JSON: trailing comma before }');
  });

  it('names every server and field of the wrong type', () => {
    const err = importError('mcp.json', fixture('wrong-types.json'));
    expect(err.details).toEqual([
      { path: 'mcp.json: mcpServers.github.args', message: 'expected array, got string' },
      {
        path: 'mcp.json: mcpServers.github.env.GITHUB_PERSONAL_ACCESS_TOKEN',
        message: 'expected string or number or boolean or null, got object',
      },
      { path: 'mcp.json: mcpServers.remote.type', message: 'expected "stdio", "http" or "sse"' },
      {
        path: 'mcp.json: mcpServers.empty.command',
        message: 'a stdio server needs a "command" (or give a "url" for an http/sse server)',
      },
    ]);
    expect(err.message).toBe(
      'mcp.json: mcpServers.github.args: expected array, got string (and 3 more problems)',
    );
  });

  it('rejects JSON without servers, a non-object, an invalid URL and mcpServers of the wrong type', () => {
    expect(importError('mcp.json', fixture('no-servers.json')).message).toBe(
      'mcp.json: no "mcpServers" object (Claude Desktop, Claude Code, Cursor, Windsurf) or "servers" object (VS Code) found',
    );
    expect(importError('mcp.json', '[1, 2]').message).toBe(
      'mcp.json: expected a JSON object with "mcpServers" or "servers", got array',
    );
    expect(importError('mcp.json', '{"mcpServers": {"x": {"url": "not a url"}}}').details).toEqual([
      { path: 'mcp.json: mcpServers.x.url', message: 'not a valid URL' },
    ]);
    expect(importError('mcp.json', '{"mcpServers": []}').details).toEqual([
      { path: 'mcp.json: mcpServers', message: 'expected record, got array' },
    ]);
  });

  it('never puts a secret into an error message', () => {
    const err = importError(
      'mcp.json',
      '{"mcpServers": {"x": {"command": 1, "env": {"T": "ghp_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE1234"}}}, }',
    );
    expect(JSON.stringify({ m: err.message, d: err.details })).not.toContain('FAKEFAKE');
  });
});
