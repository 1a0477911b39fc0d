import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.js';
import { createFingerprinter } from '../../core/fingerprint.js';
import { kubernetesImporter } from './kubernetes-importer.js';

const fingerprinter = createFingerprinter(Buffer.alloc(32, 7));
const ctx = { fingerprinter, now: '2025-06-01T00:00:00.000Z' };
const fixture = (name: string): Buffer =>
  readFileSync(new URL(`./fixtures/kubernetes/${name}`, import.meta.url));
const parse = (fileName: string, content: Buffer | string) =>
  kubernetesImporter.parse(
    { fileName, content: Buffer.isBuffer(content) ? content : Buffer.from(content) },
    ctx,
  );

function importError(content: Buffer | string): ValidationError {
  try {
    parse('cluster.json', content);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe('KW_INVALID_IMPORT');
    return err as ValidationError;
  }
  throw new Error('expected the import to fail');
}

/** The decoded value of a Secret's data key in the fixture. */
function secretValue(name: string, key: string): string {
  const list = JSON.parse(fixture('cluster.json').toString()) as {
    items: Array<{ kind: string; metadata: { name: string }; data?: Record<string, string> }>;
  };
  const item = list.items.find((i) => i.kind === 'Secret' && i.metadata.name === name)!;
  return Buffer.from(item.data![key]!, 'base64').toString('utf8');
}

describe('kubernetes importer', () => {
  const batch = parse('cluster.json', fixture('cluster.json'));

  it('turns ServiceAccounts into workload identities keyed namespace/name, with environment and owner', () => {
    expect(batch.identities.map((i) => [i.externalId, i.name, i.kind, i.environment, i.owner])).toEqual([
      [
        'payments-prod/payments-api',
        'payments-prod/payments-api',
        'workload',
        'production',
        'payments@example.com',
      ],
      ['ci/deployer', 'ci/deployer', 'workload', null, 'platform@example.com'],
      ['ml-staging/support-agent', 'ml-staging/support-agent', 'ai-agent', 'staging', 'ml-team@example.com'],
      ['kube-system/default', 'kube-system/default', 'workload', null, null],
      // Named by a token Secret but not in the export itself.
      ['ml-staging/old-agent', 'ml-staging/old-agent', 'workload', 'staging', undefined],
    ]);
    expect(batch.identities[0]).toEqual({
      provider: 'kubernetes',
      externalId: 'payments-prod/payments-api',
      name: 'payments-prod/payments-api',
      kind: 'workload',
      environment: 'production',
      owner: 'payments@example.com',
      description: null,
      tags: ['app.kubernetes.io/name=payments-api', 'app.kubernetes.io/part-of=payments'],
      createdAt: '2024-03-01T10:00:00.000Z',
      attributes: {
        namespace: 'payments-prod',
        serviceAccount: 'payments-api',
        uid: 'f4ke25-0000-4000-8000-000000000000',
        secrets: ['payments-api-token-x7k2p'],
        imagePullSecrets: ['ghcr-pull'],
        awsRoleArn: 'arn:aws:iam::123456789012:role/payments-api-task',
      },
    });
    expect(batch.identities[4]!.attributes).toEqual({
      namespace: 'ml-staging',
      serviceAccount: 'old-agent',
      notInExport: true,
      referencedBy: 'secret old-agent-token',
    });
  });

  it('fingerprints decoded service-account tokens and the data of Secrets a ServiceAccount references', () => {
    const token = secretValue('payments-api-token-x7k2p', 'token');
    expect(batch.credentials[0]).toEqual({
      identity: { provider: 'kubernetes', externalId: 'payments-prod/payments-api' },
      type: 'service-account-token',
      provider: 'kubernetes',
      fingerprint: fingerprinter.fingerprint(token),
      preview: fingerprinter.preview(token),
      fingerprintSource: 'value',
      externalId: null,
      name: 'payments-api-token-x7k2p',
      status: 'active',
      createdAt: '2024-03-01T10:00:00.000Z',
      expiresAt: null,
      attributes: {
        secretName: 'payments-api-token-x7k2p',
        namespace: 'payments-prod',
        legacyToken: true,
        issuer: 'kubernetes/serviceaccount',
      },
      locations: [
        {
          kind: 'system',
          path: 'k8s:payments-prod/secret/payments-api-token-x7k2p',
          line: null,
          key: 'token',
        },
      ],
    });
    expect(
      batch.credentials.map((c) => [
        c.identity.externalId,
        c.type,
        c.provider,
        c.preview,
        c.name,
        c.locations![0]!.path,
        c.locations![0]!.key,
      ]),
    ).toEqual([
      [
        'payments-prod/payments-api',
        'service-account-token',
        'kubernetes',
        'eyJh…TURE',
        'payments-api-token-x7k2p',
        'k8s:payments-prod/secret/payments-api-token-x7k2p',
        'token',
      ],
      [
        'ci/deployer',
        'service-account-token',
        'kubernetes',
        'eyJh…TURE',
        'deployer-token-9fz2q',
        'k8s:ci/secret/deployer-token-9fz2q',
        'token',
      ],
      [
        'ml-staging/old-agent',
        'service-account-token',
        'kubernetes',
        'eyJh…TURE',
        'old-agent-token',
        'k8s:ml-staging/secret/old-agent-token',
        'token',
      ],
      // The registry password of an image pull secret is a GitHub PAT, recognised as such.
      [
        'payments-prod/payments-api',
        'pat',
        'github',
        'ghp_…5678',
        'ghcr-pull/ghcr.io',
        'k8s:payments-prod/secret/ghcr-pull',
        '.dockerconfigjson:auths.ghcr.io',
      ],
      [
        'ml-staging/support-agent',
        'api-key',
        'openai',
        'sk-p…MPLE',
        'support-agent-llm-keys/OPENAI_API_KEY',
        'k8s:ml-staging/secret/support-agent-llm-keys',
        'OPENAI_API_KEY',
      ],
      [
        'ml-staging/support-agent',
        'api-key',
        'anthropic',
        'sk-a…LEAA',
        'support-agent-llm-keys/ANTHROPIC_API_KEY',
        'k8s:ml-staging/secret/support-agent-llm-keys',
        'ANTHROPIC_API_KEY',
      ],
      [
        'ml-staging/support-agent',
        'connection-string',
        'postgres',
        'FAK…-pw',
        'support-agent-llm-keys/DATABASE_URL',
        'k8s:ml-staging/secret/support-agent-llm-keys',
        'DATABASE_URL',
      ],
    ]);
    const pull = batch.credentials[3]!;
    expect(pull.fingerprint).toBe(fingerprinter.fingerprint('ghp_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE5678'));
    expect(pull.attributes).toEqual({
      secretName: 'ghcr-pull',
      secretType: 'kubernetes.io/dockerconfigjson',
      dataKey: '.dockerconfigjson',
      referencedAs: 'imagePullSecret',
      registry: 'ghcr.io',
      username: 'acme-bot',
      classic: true,
    });
  });

  it('turns bindings of ServiceAccounts into grants from the referenced rules, marking cluster-admin as admin', () => {
    expect(
      batch.grants.map((g) => [
        g.identity.externalId,
        g.key,
        g.actions,
        g.resources,
        g.admin,
        g.attributes?.roleRef,
      ]),
    ).toEqual([
      [
        'payments-prod/payments-api',
        'rolebinding:payments-prod/payments-api-secrets',
        ['get', 'list'],
        ['k8s:payments-prod/secrets/payments-db', 'k8s:payments-prod/configmaps/*'],
        false,
        'Role/secret-reader',
      ],
      [
        'ml-staging/support-agent',
        'rolebinding:ml-staging/support-agent-runtime',
        ['get', 'list', 'watch'],
        ['k8s:ml-staging/pods/*', 'k8s:ml-staging/pods/log/*'],
        false,
        'Role/agent-runtime',
      ],
      [
        'ml-staging/support-agent',
        'rolebinding:ml-staging/all-serviceaccounts-view',
        ['get', 'list', 'watch'],
        ['k8s:ml-staging/configmaps/*', 'k8s:ml-staging/pods/*', 'k8s:ml-staging/services/*'],
        false,
        'ClusterRole/view',
      ],
      [
        'ml-staging/old-agent',
        'rolebinding:ml-staging/all-serviceaccounts-view',
        ['get', 'list', 'watch'],
        ['k8s:ml-staging/configmaps/*', 'k8s:ml-staging/pods/*', 'k8s:ml-staging/services/*'],
        false,
        'ClusterRole/view',
      ],
      [
        'ci/deployer',
        'clusterrolebinding:ci-deployer-admin',
        ['*'],
        ['k8s:*/*/*', 'k8s:nonresource:*'],
        true,
        'ClusterRole/cluster-admin',
      ],
    ]);
    expect(batch.grants[0]).toEqual({
      identity: { provider: 'kubernetes', externalId: 'payments-prod/payments-api' },
      key: 'rolebinding:payments-prod/payments-api-secrets',
      effect: 'allow',
      actions: ['get', 'list'],
      resources: ['k8s:payments-prod/secrets/payments-db', 'k8s:payments-prod/configmaps/*'],
      source: 'rolebinding:payments-prod/payments-api-secrets',
      admin: false,
      attributes: {
        bindingKind: 'RoleBinding',
        roleRef: 'Role/secret-reader',
        rules: [
          { verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['payments-db'] },
          { verbs: ['get', 'list'], apiGroups: [''], resources: ['configmaps'] },
        ],
      },
    });
    expect(batch.grants[2]!.attributes).toMatchObject({ viaGroup: 'system:serviceaccounts:ml-staging' });
  });

  it('lists the namespaces seen as resources', () => {
    expect(batch.resources).toEqual([
      {
        provider: 'kubernetes',
        type: 'k8s:namespace',
        name: 'k8s:ci',
        environment: null,
        attributes: { namespace: 'ci' },
      },
      {
        provider: 'kubernetes',
        type: 'k8s:namespace',
        name: 'k8s:kube-system',
        environment: null,
        attributes: { namespace: 'kube-system' },
      },
      {
        provider: 'kubernetes',
        type: 'k8s:namespace',
        name: 'k8s:ml-staging',
        environment: 'staging',
        attributes: { namespace: 'ml-staging' },
      },
      {
        provider: 'kubernetes',
        type: 'k8s:namespace',
        name: 'k8s:payments-prod',
        environment: 'production',
        attributes: { namespace: 'payments-prod' },
      },
    ]);
  });

  it('is stable across imports and holds no secret value', () => {
    expect(parse('cluster.json', fixture('cluster.json'))).toEqual(batch);
    const text = JSON.stringify(batch);
    for (const s of ['FAKESIGNATURE', 'FAKEFAKE5678', 'sk-proj-FAKE', 'FAKE-agent-pw', 'sk-ant-api03'])
      expect(text).not.toContain(s);
  });

  it('takes environment and owner from Namespace objects when the list includes them', () => {
    const list = {
      kind: 'List',
      items: [
        {
          kind: 'Namespace',
          metadata: {
            name: 'billing',
            labels: { environment: 'prod' },
            annotations: { 'keyward.io/owner': 'billing@example.com' },
          },
        },
        { kind: 'ServiceAccount', metadata: { name: 'worker', namespace: 'billing' } },
        {
          kind: 'RoleBinding',
          metadata: { name: 'admin-here', namespace: 'billing' },
          roleRef: { kind: 'ClusterRole', name: 'cluster-admin' },
          subjects: [{ kind: 'ServiceAccount', name: 'worker' }],
        },
      ],
    };
    const b = parse('ns.json', JSON.stringify(list));
    expect(b.identities.map((i) => [i.externalId, i.environment, i.owner])).toEqual([
      ['billing/worker', 'production', 'billing@example.com'],
    ]);
    // cluster-admin bound in one namespace: every verb on everything in that namespace; its rules are not in the export.
    expect(b.grants.map((g) => [g.key, g.actions, g.resources, g.admin, g.attributes])).toEqual([
      [
        'rolebinding:billing/admin-here',
        ['*'],
        ['k8s:billing/*/*'],
        true,
        { bindingKind: 'RoleBinding', roleRef: 'ClusterRole/cluster-admin', roleMissing: false },
      ],
    ]);
    expect(b.resources).toEqual([
      {
        provider: 'kubernetes',
        type: 'k8s:namespace',
        name: 'k8s:billing',
        environment: 'production',
        attributes: { namespace: 'billing' },
      },
    ]);
  });

  it('names the item and field of every problem', () => {
    expect(importError(fixture('broken.json')).details).toEqual([
      { path: 'cluster.json: items[0].metadata.name', message: 'required string is missing' },
      { path: 'cluster.json: items[4].roleRef.kind', message: 'expected one of Role, ClusterRole' },
      { path: 'cluster.json: items[6]', message: 'expected object, got string' },
      {
        path: 'cluster.json: items[3].metadata.annotations["kubernetes.io/service-account.name"]',
        message: 'a service-account-token Secret must name its ServiceAccount',
      },
      {
        path: 'cluster.json: items[1].data.API_KEY',
        message: 'not valid base64 (kubectl -o json prints Secret data base64-encoded)',
      },
      {
        path: 'cluster.json: items[5].subjects[0].namespace',
        message: 'a ServiceAccount subject of a ClusterRoleBinding needs a namespace',
      },
    ]);
    expect(importError('{"kind": "List", "items": {}}').message).toBe(
      'cluster.json: expected a Kubernetes List object with an "items" array (kubectl get … -o json)',
    );
    expect(importError('"text"').message).toBe(
      'cluster.json: expected a Kubernetes List object ({"kind": "List", "items": [...]}), got string',
    );
  });
});

describe('kubernetes importer with a cluster name', () => {
  const plain = parse('cluster.json', fixture('cluster.json'));
  const scoped = kubernetesImporter.parse(
    { fileName: 'cluster.json', content: fixture('cluster.json'), options: { cluster: 'prod-eu' } },
    ctx,
  );

  it('qualifies identities, grants, resources and locations with the cluster', () => {
    expect(scoped.identities.map((i) => i.externalId)).toEqual(
      plain.identities.map((i) => `prod-eu/${i.externalId}`),
    );
    expect(scoped.identities.every((i) => i.attributes?.cluster === 'prod-eu')).toBe(true);
    expect(scoped.credentials.map((c) => c.identity.externalId)).toEqual(
      plain.credentials.map((c) => `prod-eu/${c.identity.externalId}`),
    );
    expect(scoped.resources.map((r) => r.name)).toEqual(
      plain.resources.map((r) => r.name.replace(/^k8s:/, 'k8s:prod-eu:')),
    );
    expect(scoped.grants.flatMap((g) => g.resources)).toEqual(
      plain.grants.flatMap((g) => g.resources.map((x) => x.replace(/^k8s:/, 'k8s:prod-eu:'))),
    );
    expect(scoped.credentials.flatMap((c) => (c.locations ?? []).map((l) => l.path))).toEqual(
      plain.credentials.flatMap((c) =>
        (c.locations ?? []).map((l) => l.path.replace(/^k8s:/, 'k8s:prod-eu:')),
      ),
    );
    // Fingerprints do not depend on the cluster: the same token in two clusters is still one secret.
    expect(scoped.credentials.map((c) => c.fingerprint)).toEqual(plain.credentials.map((c) => c.fingerprint));
  });
});
