/** The built `keyward` CLI's broker commands against a temporary SQLite store: policy, agent, listing, explain. */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROOT, removeDir, requireBuild, runJson, runKeyward, tempDir } from './e2e-helpers.js';

const POLICY = join(ROOT, 'src', 'broker', 'fixtures', 'policies', 'valid', 'support-agent.yaml');
const BROKEN = join(ROOT, 'src', 'broker', 'fixtures', 'policies', 'broken', 'empty-scope.yaml');

interface AgentPage {
  items: Array<{ id: string; clientId: string; name: string; status: string; auth: { hasSecret: boolean } }>;
  total: number;
}

let dir: string;
beforeEach(() => {
  requireBuild();
  dir = tempDir();
});
afterEach(() => removeDir(dir));

const kw = (...args: string[]) => runKeyward(['--data-dir', dir, ...args], { env: { USER: 'e2e' } });
const kwJson = <T>(...args: string[]) => runJson<T>(['--data-dir', dir, ...args]);

describe('agent-types apply → agents register → agents list → broker explain', () => {
  it('runs the broker set-up a user would', async () => {
    const broken = await kw('agent-types', 'apply', BROKEN);
    expect(broken).toEqual({
      code: 2,
      stdout: '',
      stderr: `keyward: ${BROKEN}:12: allow[1].scopes[0]: must not be empty\n`,
    });

    const applied = await kw('agent-types', 'apply', POLICY);
    expect(applied).toEqual({
      code: 0,
      stdout: 'created agent type support-agent (policy version 1)\n',
      stderr: '',
    });

    const registered = await kw('agents', 'register', 'support-agent', '--name', 'support-bot-1');
    expect(registered.code).toBe(0);
    const clientId = /^client_id: +(kwc_\w+)$/m.exec(registered.stdout)?.[1];
    const secret = /^client_secret: (kwcs_\S+)$/m.exec(registered.stdout)?.[1];
    expect(clientId).toBeDefined();
    expect(secret).toBeDefined();
    expect(registered.stderr).toContain('shown this once');
    expect(registered.stderr).not.toContain(secret!);

    const agents = await kwJson<AgentPage>('agents', 'list');
    expect(agents.total).toBe(1);
    expect(agents.items[0]).toMatchObject({
      clientId,
      name: 'support-bot-1',
      status: 'active',
      auth: { hasSecret: true },
    });
    const listed = await kw('agents', 'list');
    expect(listed.stdout).toContain(`\tsupport-bot-1\tsupport-agent\t${clientId}\tactive\tsecret\t`);
    expect(listed.stdout).not.toContain(secret!);

    const explain = ['broker', 'explain', '--agent', clientId!, '--resource', 'https://api.github.com'];
    const allowed = await kw(...explain, '--scope', 'repo:read');
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain('Result: allow repo:read for 5m');

    const denied = await kw(...explain, '--scope', 'admin:write');
    expect(denied.code).toBe(1);
    // The rule with its line in the file applied (support-agent.yaml:20).
    expect(denied.stdout).toContain("deny[0] (line 20): resource matches '*' and scope matches 'admin:*'");
    expect(denied.stdout).toContain('Result: deny');
  });
});
