/**
 * Human approval of token requests: a request for scopes a policy puts behind approval becomes a pending
 * Approval; the client polls for it (OpenID CIBA poll mode, with RFC 8628 §3.5 `slow_down` when it polls too
 * fast); a person approves or denies it; a request nobody decides before its deadline expires (counts as
 * denied). The state machine itself (decided once, used for one token) is the store's; this file adds the
 * polling rules and the housekeeping.
 */
import type { Agent, Approval } from '../core/broker-types.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import type { Clock } from '../core/time.js';
import type { ApprovalFilter, BrokerStore, Page } from '../store/index.js';

/** RFC 8628 §3.5: after `slow_down` the client adds 5 seconds to its polling interval. */
export const SLOW_DOWN_STEP_SECONDS = 5;

/** What the approval desk needs from the store. */
export type ApprovalStore = Pick<
  BrokerStore,
  | 'createApproval'
  | 'getApproval'
  | 'listApprovals'
  | 'decideApproval'
  | 'expirePendingApprovals'
  | 'markApprovalUsed'
  | 'recordApprovalPoll'
>;

/** What the approval desk is built from. */
export interface ApprovalDeskDeps {
  store: ApprovalStore;
  clock: Clock;
  /** The interval clients are told to poll at (seconds). */
  pollIntervalSeconds: number;
}

/** What a poll found. */
export type ApprovalPoll =
  | { state: 'unknown' }
  | { state: 'pending'; approval: Approval; interval: number }
  | { state: 'slow-down'; approval: Approval; interval: number }
  | { state: 'denied'; approval: Approval }
  | { state: 'expired'; approval: Approval }
  | { state: 'used'; approval: Approval }
  | { state: 'approved'; approval: Approval };

/** A request for approval as the token endpoint makes it. */
export interface ApprovalRequest {
  agent: Pick<Agent, 'id'>;
  scopes: string[];
  resource: string;
  task: string | null;
  purpose: string | null;
  timeoutSeconds: number;
}

/**
 * Creates the approval desk.
 * @example
 * const desk = createApprovalDesk({ store, clock, pollIntervalSeconds: 5 });
 * const approval = await desk.request({ agent, scopes, resource, task, purpose, timeoutSeconds: 600 }, agent.id);
 * await desk.decide(approval.id, 'approve', 'farid@example.com', 'ticket 42');
 */
export function createApprovalDesk(deps: ApprovalDeskDeps) {
  const { store, clock } = deps;
  const nowIso = (): string => clock.now().toISOString();

  /** Marks every pending request past its deadline as expired (one event each); returns them. */
  const expireOverdue = async (): Promise<Approval[]> => {
    return store.expirePendingApprovals(nowIso());
  };

  return {
    expireOverdue,

    /** Records a pending request; the client's first poll is timed from the request. */
    async request(input: ApprovalRequest, actor: string): Promise<Approval> {
      const now = clock.now();
      const approval = await store.createApproval(
        {
          agentId: input.agent.id,
          scopes: input.scopes,
          resource: input.resource,
          task: input.task,
          purpose: input.purpose,
          expiresAt: new Date(now.getTime() + input.timeoutSeconds * 1000).toISOString(),
        },
        { time: now.toISOString(), actor },
      );
      return approval;
    },

    /**
     * What a client's poll finds. `unknown` when the id does not exist or belongs to another agent (the
     * caller must not learn which). A pending request past its deadline is expired first.
     */
    async poll(id: string, agentId: string): Promise<ApprovalPoll> {
      let approval = await store.getApproval(id);
      if (!approval || approval.agentId !== agentId) return { state: 'unknown' };
      const now = clock.now();
      if (approval.status === 'pending' && Date.parse(approval.expiresAt) <= now.getTime()) {
        await expireOverdue();
        approval = (await store.getApproval(id)) ?? approval;
      }
      switch (approval.status) {
        case 'pending': {
          // The pace is kept in the store, so polls that land on different processes count alike.
          const pace = await store.recordApprovalPoll(id, now.getTime(), {
            intervalSeconds: deps.pollIntervalSeconds,
            stepSeconds: SLOW_DOWN_STEP_SECONDS,
          });
          const interval = pace?.intervalSeconds ?? deps.pollIntervalSeconds;
          return pace?.slowDown
            ? { state: 'slow-down', approval, interval }
            : { state: 'pending', approval, interval };
        }
        case 'denied':
          return { state: 'denied', approval };
        case 'expired':
          return { state: 'expired', approval };
        case 'approved':
          return approval.tokenJti === null ? { state: 'approved', approval } : { state: 'used', approval };
      }
    },

    /** Records the token issued from an approved request; ConflictError when it was used already. */
    markUsed(id: string, jti: string, actor: string): Promise<Approval> {
      return store.markApprovalUsed(id, jti, { time: nowIso(), actor });
    },

    /** Approval requests, newest first; overdue ones are expired first so the statuses are current. */
    async list(filter: ApprovalFilter = {}): Promise<Page<Approval>> {
      await expireOverdue();
      return store.listApprovals(filter);
    },

    /** One request, or null. */
    get(id: string): Promise<Approval | null> {
      return store.getApproval(id);
    },

    /**
     * A person approves or denies a pending request. NotFoundError when it does not exist; ConflictError when it
     * was decided already or its deadline passed (it is then recorded as expired).
     */
    async decide(
      id: string,
      decision: 'approve' | 'deny',
      approver: string,
      reason: string | null = null,
    ): Promise<Approval> {
      if (decision !== 'approve' && decision !== 'deny') {
        throw new ValidationError(`decision must be approve or deny`, {
          details: [{ path: 'decision', message: 'must be approve or deny' }],
        });
      }
      if (typeof approver !== 'string' || approver.trim() === '') {
        throw new ValidationError('approver must name the person deciding', {
          details: [{ path: 'approver', message: 'must be a non-empty string' }],
        });
      }
      if (!(await store.getApproval(id))) throw new NotFoundError(`no approval request with id ${id}`);
      // A deadline that passed is recorded as such before the decision is refused.
      await expireOverdue();
      return store.decideApproval(id, {
        status: decision === 'approve' ? 'approved' : 'denied',
        decidedBy: approver,
        reason: reason === null || reason.trim() === '' ? null : reason,
        time: nowIso(),
      });
    },
  };
}

/** The approval desk's interface. */
export type ApprovalDesk = ReturnType<typeof createApprovalDesk>;
