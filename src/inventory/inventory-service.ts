/** The inventory capability: imports, identities, findings, risk and graphs over one store. */
import type { Clock } from '../core/time.js';
import type { Fingerprinter } from '../core/fingerprint.js';
import { sha256Hex } from '../core/fingerprint.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import type {
  BatchResult,
  IdentityInput,
  InventoryBatch,
  InventorySnapshot,
} from '../core/inventory-batch.js';
import type { Credential, Grant, Identity, StoredFinding } from '../core/types.js';
import type { IdentityPatch, Store } from '../store/index.js';
import type { ImporterKind, ImportOptions } from './importers/importer-types.js';
import { getImporter } from './importers/index.js';
import type { PostureConfig, RiskBreakdown } from './posture/posture-types.js';
import {
  buildIdentityGraph,
  computeRiskScores,
  evaluatePosture,
  type IdentityGraph,
} from './posture/index.js';
import { buildDemoBatches } from './demo/demo-data.js';

/** What the inventory service needs. */
export interface InventoryServiceDeps {
  store: Store;
  fingerprinter: Fingerprinter;
  clock: Clock;
  posture: PostureConfig;
  /** Largest file `importFile` accepts, in bytes. */
  maxImportBytes: number;
}

/** The outcome of importing one file. */
export interface ImportResult {
  kind: ImporterKind;
  file: string;
  sha256: string;
  bytes: number;
  changes: BatchResult;
  findings: { open: number; created: number; resolved: number };
}

/** An identity with everything attached to it. */
export interface IdentityDetail {
  identity: Identity;
  credentials: Credential[];
  grants: Grant[];
  findings: StoredFinding[];
  risk: RiskBreakdown;
}

/**
 * Creates the inventory service.
 * @example
 * const inventory = createInventoryService({ store, fingerprinter, clock: systemClock, posture: DEFAULT_POSTURE_CONFIG, maxImportBytes: 64 << 20 });
 * await inventory.importFile({ kind: 'dotenv', fileName: '.env', content: readFileSync('.env'), actor: 'cli' });
 */
export function createInventoryService(deps: InventoryServiceDeps) {
  const { store, fingerprinter, clock } = deps;
  const now = (): string => clock.now().toISOString();

  /** Evaluates every posture rule over the whole inventory and stores the findings and risk scores. */
  async function refreshFindings(
    snapshot?: InventorySnapshot,
  ): Promise<{ open: number; created: number; resolved: number }> {
    const snap = snapshot ?? (await store.loadSnapshot());
    const at = clock.now();
    const findings = evaluatePosture(snap, deps.posture, at);
    const risks = computeRiskScores(snap, findings);
    const scores = new Map<string, number>();
    for (const [id, r] of risks) scores.set(id, r.score);
    return store.replaceFindings(findings, scores, at.toISOString());
  }

  async function applyBatch(
    batch: InventoryBatch,
    actor: string,
    source: Record<string, unknown>,
  ): Promise<BatchResult> {
    return store.applyInventoryBatch(batch, { time: now(), actor, source });
  }

  /** Resolves an identity by id or by exact name (an ambiguous name is an error listing the candidates). */
  async function resolveIdentity(ref: string): Promise<Identity> {
    const byId = await store.getIdentity(ref);
    if (byId) return byId;
    const byName = await store.findIdentitiesByName(ref);
    if (byName.length === 1) return byName[0]!;
    if (byName.length === 0) throw new NotFoundError(`no identity with id or name "${ref}"`);
    throw new ValidationError(`"${ref}" names ${byName.length} identities; use one of their ids`, {
      details: byName.map((i) => ({ path: i.id, message: `${i.provider}:${i.externalId}` })),
    });
  }

  return {
    /** Parses, validates and applies one export file; the store is unchanged when the file is invalid. */
    async importFile(args: {
      kind: ImporterKind;
      fileName: string;
      content: Buffer;
      actor: string;
      options?: ImportOptions;
    }): Promise<ImportResult> {
      const { kind, fileName, content, actor } = args;
      const options = checkImportOptions(kind, args.options ?? {});
      if (content.length > deps.maxImportBytes) {
        throw new ValidationError(
          `${fileName}: the file is ${(content.length / 1048576).toFixed(1)} MiB, over the import limit of ${(deps.maxImportBytes / 1048576).toFixed(0)} MiB`,
          { code: 'KW_INVALID_IMPORT', details: [{ path: fileName, message: 'file too large' }] },
        );
      }
      const importer = getImporter(kind);
      const batch = importer.parse({ fileName, content, options }, { fingerprinter, now: now() });
      const sha256 = sha256Hex(content);
      const changes = await applyBatch(batch, actor, {
        kind,
        file: fileName,
        sha256,
        bytes: content.length,
        ...(Object.keys(options).length ? { options } : {}),
      });
      const findings = await refreshFindings();
      return { kind, file: fileName, sha256, bytes: content.length, changes, findings };
    },

    /** Loads the fictional demo company (idempotent: loading twice changes nothing). */
    async loadDemo(
      actor: string,
    ): Promise<{ changes: BatchResult[]; findings: { open: number; created: number; resolved: number } }> {
      const changes: BatchResult[] = [];
      for (const { name, batch } of buildDemoBatches(fingerprinter, clock.now())) {
        changes.push(await applyBatch(batch, actor, { kind: 'demo', file: name }));
      }
      return { changes, findings: await refreshFindings() };
    },

    /** Applies a batch built elsewhere (a secret scan's discoveries), then re-evaluates posture. */
    async importBatch(
      batch: InventoryBatch,
      actor: string,
      source: Record<string, unknown>,
    ): Promise<{ changes: BatchResult; findings: { open: number; created: number; resolved: number } }> {
      const changes = await applyBatch(batch, actor, source);
      return { changes, findings: await refreshFindings() };
    },

    refreshFindings,
    resolveIdentity,

    async createIdentity(input: IdentityInput, actor: string): Promise<Identity> {
      const created = await store.createIdentity(input, { time: now(), actor });
      await refreshFindings();
      return (await store.getIdentity(created.id)) ?? created;
    },
    async updateIdentity(id: string, patch: IdentityPatch, actor: string): Promise<Identity> {
      const updated = await store.updateIdentity(id, patch, { time: now(), actor });
      await refreshFindings();
      return (await store.getIdentity(updated.id)) ?? updated;
    },
    async deleteIdentity(id: string, actor: string): Promise<void> {
      await store.deleteIdentity(id, { time: now(), actor });
      await refreshFindings();
    },

    /** An identity with its credentials, grants, findings and risk breakdown. */
    async getIdentityDetail(ref: string): Promise<IdentityDetail> {
      const identity = await resolveIdentity(ref);
      const [credentials, grants, findings] = await Promise.all([
        store.listCredentials({ identityId: identity.id, limit: 1000 }),
        store.listGrants({ identityId: identity.id, limit: 1000 }),
        store.listFindings({ identityId: identity.id, limit: 1000 }),
      ]);
      const snap: InventorySnapshot = {
        identities: [identity],
        credentials: credentials.items,
        grants: grants.items,
        resources: [],
        people: [],
      };
      const risk = computeRiskScores(snap, findings.items).get(identity.id) ?? {
        identityId: identity.id,
        score: 0,
        factors: [],
      };
      return {
        identity,
        credentials: credentials.items,
        grants: grants.items,
        findings: findings.items,
        risk,
      };
    },

    /** identity → credentials → grants → resources, for one identity (by id or name). */
    async graph(ref: string): Promise<IdentityGraph> {
      const identity = await resolveIdentity(ref);
      const snap = await store.loadSnapshot();
      return buildIdentityGraph(snap, identity.id);
    },
  };
}

const CLUSTER_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Checks that the importer accepts each option given and that its value is well-formed. */
function checkImportOptions(kind: ImporterKind, options: ImportOptions): ImportOptions {
  const accepted = getImporter(kind).options ?? [];
  for (const [name, value] of Object.entries(options) as Array<[keyof ImportOptions, unknown]>) {
    if (value === undefined) continue;
    if (!accepted.includes(name)) {
      throw new ValidationError(`the ${kind} importer does not take the option "${name}"`, {
        details: [{ path: name, message: `not an option of ${kind} imports` }],
      });
    }
    if (name === 'cluster' && (typeof value !== 'string' || !CLUSTER_NAME.test(value))) {
      throw new ValidationError('a cluster name is 1–63 lowercase letters, digits, ".", "_" or "-"', {
        details: [{ path: 'cluster', message: 'invalid cluster name' }],
      });
    }
  }
  return options;
}

/** The inventory service's type. */
export type InventoryService = ReturnType<typeof createInventoryService>;
