/**
 * Approvals (docs/loop.md, "Approvals are authenticated by IAM"): RequestApproval stores one per group of
 * gated actions with the task token and an expiry; the approver's own AWS identity answers it once, with a
 * conditional update on `status = pending` that is also refused after the expiry, so a decision can be
 * neither replayed nor overturned, and a late answer cannot revive a timed-out request.
 */
import { createHash } from 'node:crypto';
import {
  GetCommand,
  type GetCommandOutput,
  PutCommand,
  ScanCommand,
  type ScanCommandOutput,
  UpdateCommand,
  type UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { ActionKindSchema, RiskSchema } from '../../domain/action-kinds.ts';
import { toAwsCallError } from '../../shared/errors.ts';
import {
  ApprovalAlreadyDecidedError,
  ApprovalExistsError,
  ApprovalExpiredError,
  ApprovalNotFoundError,
  StoreIntegrityError,
} from './errors.ts';
import { isConditionalCheckFailed, isoTime, keys, type StateTable, send } from './table.ts';

export const ApprovalStatusSchema = z.enum(['pending', 'approved', 'rejected', 'expired']);
export type ApprovalStatus = z.infer<typeof ApprovalStatusSchema>;

const DigestSchema = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'a digest is sha256: and 64 hex digits');

/** One gated action as the approver sees it. */
export const ApprovalActionSchema = z.object({
  actionId: z.string().min(1),
  kind: ActionKindSchema,
  resourceId: z.string().min(1),
  /** What will change, in one line: "switch vpc-0a1b to enforce with the NatGateway exclusion". */
  summary: z.string().min(1),
  /** Why, in one sentence (the planner's reason). */
  reason: z.string(),
  risks: z.array(RiskSchema),
  monthlyCostDeltaUsd: z.number(),
  /**
   * What the approval binds this action to (functions/domain/approval-digest.ts): its kind, resource,
   * parameters, cost and the before-state it was asked on. Absent on approvals stored before digests: those
   * carry over to no later plan.
   */
  digest: DigestSchema.optional(),
});
export type ApprovalAction = z.infer<typeof ApprovalActionSchema>;

/** What the approval is about: the VPC (or Transit Gateway) of the group. */
export const ApprovalTargetSchema = z.object({
  type: z.enum(['vpc', 'transit-gateway']),
  id: z.string().min(1),
  /** The Name tag, when there is one. */
  name: z.string().optional(),
});

export const ApprovalSchema = z.object({
  approvalId: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'an approval id is 1–64 letters, digits and dashes'),
  status: ApprovalStatusSchema,
  /** The Step Functions task token the answer is sent with. Never shown in a notification. */
  taskToken: z.string().min(1),
  runId: z.string().min(1),
  accountId: z.string().regex(/^\d{12}$/),
  region: z.string().min(1),
  groupId: z.string().min(1),
  iteration: z.number().int().nonnegative().optional(),
  target: ApprovalTargetSchema,
  /** The ids ApplyApproved compares with the plan's: an approval never widens what was asked. */
  actionIds: z.array(z.string().min(1)).min(1),
  actions: z.array(ApprovalActionSchema).min(1),
  /** The digest of the whole request: its actions' ids and digests, in order (`approvalDigest`). */
  digest: DigestSchema.optional(),
  monthlyCostUsd: z.number(),
  dryRun: z.boolean().default(false),
  requestedAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  /** ARN of the identity that answered. */
  decidedBy: z.string().optional(),
  decidedAt: z.iso.datetime().optional(),
  reason: z.string().optional(),
});
export type Approval = z.infer<typeof ApprovalSchema>;
/** What RequestApproval supplies: the decision fields are the approver's, and the status starts pending. */
export type ApprovalInput = Omit<
  z.input<typeof ApprovalSchema>,
  'status' | 'decidedBy' | 'decidedAt' | 'reason'
>;

/** A pending approval as listed: `expired` when its expiry has passed but nobody marked it. */
export type ListedApproval = Approval & { readonly expired: boolean };

/**
 * A short id a person can type (`apr-` + 16 hex), the same for the same run, scope, iteration and group, so
 * that a retried RequestApproval finds the approval it already created.
 */
export function approvalIdFor(parts: {
  readonly runId: string;
  readonly accountId: string;
  readonly region: string;
  readonly iteration: number;
  readonly groupId: string;
}): string {
  const text = [parts.runId, parts.accountId, parts.region, parts.iteration, parts.groupId].join('\n');
  return `apr-${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}

export interface Decision {
  readonly approved: boolean;
  /** ARN of whoever answers, as AWS authenticated it (the approver endpoint's function URL request). */
  readonly approver: string;
  readonly reason?: string;
  readonly now: Date | string;
}

function parseApproval(item: Record<string, unknown>): Approval {
  const { pk: _pk, sk: _sk, ...rest } = item;
  const parsed = ApprovalSchema.safeParse(rest);
  if (!parsed.success) {
    throw new StoreIntegrityError(
      `approval item ${String(item.pk)} is not what vecguard writes: ${parsed.error.message}`,
    );
  }
  return parsed.data;
}

export class ApprovalStore {
  readonly table: StateTable;

  constructor(table: StateTable) {
    this.table = table;
  }

  /** Store a new pending approval; `ApprovalExistsError` if the id is taken. */
  async createApproval(input: ApprovalInput): Promise<Approval> {
    const approval = ApprovalSchema.parse({ ...input, status: 'pending' });
    if (Date.parse(approval.expiresAt) <= Date.parse(approval.requestedAt)) {
      throw new RangeError(`approval ${approval.approvalId} expires before it is requested`);
    }
    const missing = approval.actions.map((a) => a.actionId).filter((id) => !approval.actionIds.includes(id));
    if (missing.length > 0 || approval.actions.length !== approval.actionIds.length) {
      throw new RangeError(
        `approval ${approval.approvalId}: actions and actionIds must name the same actions`,
      );
    }
    const item = {
      pk: keys.approval(approval.approvalId),
      sk: keys.approvalSk,
      ...withoutUndefined(approval),
      requestedAt: isoTime(approval.requestedAt),
      expiresAt: isoTime(approval.expiresAt),
    };
    try {
      await this.table.client.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new ApprovalExistsError(approval.approvalId);
      throw toCallError(error, 'PutItem');
    }
    return { ...approval, requestedAt: item.requestedAt, expiresAt: item.expiresAt };
  }

  async getApproval(approvalId: string): Promise<Approval | undefined> {
    const { Item } = await send<GetCommandOutput>(
      this.table,
      'GetItem',
      new GetCommand({
        TableName: this.table.tableName,
        Key: { pk: keys.approval(approvalId), sk: keys.approvalSk },
        ConsistentRead: true,
      }),
    );
    return Item === undefined ? undefined : parseApproval(Item);
  }

  /**
   * Approvals still waiting for an answer, oldest request first; those past their expiry are included with
   * `expired: true` (Step Functions has already timed them out, or is about to).
   */
  async listPending(
    now: Date | string,
    scope?: { accountId?: string; region?: string },
  ): Promise<ListedApproval[]> {
    const at = isoTime(now, 'now');
    const pending = await this.#scan(
      '#status = :pending',
      { ':pending': 'pending' },
      { '#status': 'status' },
    );
    return pending
      .filter(
        (a) =>
          (scope?.accountId === undefined || a.accountId === scope.accountId) &&
          (scope?.region === undefined || a.region === scope.region),
      )
      .map((a) => ({ ...a, expired: a.expiresAt <= at }));
  }

  /** Every approval a run asked for in one scope, whatever its status, oldest first. */
  async listForRun(runId: string, scope: { accountId: string; region: string }): Promise<Approval[]> {
    const ofRun = await this.#scan('runId = :runId', { ':runId': runId });
    return ofRun.filter((a) => a.accountId === scope.accountId && a.region === scope.region);
  }

  /** Approval items matching `filter` (a Scan: the table has no index on them), oldest request first. */
  async #scan(
    filter: string,
    values: Record<string, string>,
    names?: Record<string, string>,
  ): Promise<Approval[]> {
    const found: Approval[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await send<ScanCommandOutput>(
        this.table,
        'Scan',
        new ScanCommand({
          TableName: this.table.tableName,
          FilterExpression: `begins_with(pk, :prefix) AND sk = :sk AND ${filter}`,
          ...(names ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: { ':prefix': keys.approval(''), ':sk': keys.approvalSk, ...values },
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        }),
      );
      for (const item of page.Items ?? []) found.push(parseApproval(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return found.sort(
      (a, b) => a.requestedAt.localeCompare(b.requestedAt) || a.approvalId.localeCompare(b.approvalId),
    );
  }

  /**
   * A retried RequestApproval (Step Functions retries the task with a new token): the still-pending approval
   * takes the latest token and the new attempt's expiry, so an answer given from now on reaches the attempt
   * that waits. Refused with `ApprovalAlreadyDecidedError` when it was answered (or closed) before: the
   * caller then answers the new token with that decision.
   */
  async renewRequest(
    approvalId: string,
    renewal: { readonly taskToken: string; readonly expiresAt: Date | string; readonly now: Date | string },
  ): Promise<Approval> {
    if (renewal.taskToken === '') throw new RangeError('a renewed request needs a task token');
    return this.#transition(
      approvalId,
      isoTime(renewal.now, 'now'),
      { taskToken: renewal.taskToken, expiresAt: isoTime(renewal.expiresAt, 'expiresAt') },
      'any-time',
    );
  }

  /**
   * Answer a pending approval, once. Refused with `ApprovalAlreadyDecidedError` when it was answered (or
   * marked expired) before, `ApprovalExpiredError` when its expiry has passed, `ApprovalNotFoundError` when
   * there is no such approval.
   */
  async decide(approvalId: string, decision: Decision): Promise<Approval> {
    const now = isoTime(decision.now, 'now');
    if (decision.approver.trim() === '') throw new RangeError('an approval is answered by an identity (ARN)');
    return this.#transition(
      approvalId,
      now,
      {
        status: decision.approved ? 'approved' : 'rejected',
        decidedBy: decision.approver,
        decidedAt: now,
        ...(decision.reason === undefined || decision.reason === '' ? {} : { reason: decision.reason }),
      },
      'not-expired',
    );
  }

  /**
   * Mark a pending approval whose expiry has passed as `expired` (RecordRejection after States.Timeout).
   * Refused when it was answered before, or is not yet expired.
   */
  async markExpired(approvalId: string, now: Date | string): Promise<Approval> {
    const at = isoTime(now, 'now');
    return this.#transition(
      approvalId,
      at,
      { status: 'expired', decidedBy: 'vecguard', decidedAt: at },
      'expired',
    );
  }

  /**
   * Close a pending approval whose task Step Functions timed out. The state machine's clock decides, not the
   * stored expiry: once the task has timed out its token is dead and no answer can reach the run, so the
   * approval is expired whatever `expiresAt` says (the local runner, for one, runs time faster).
   */
  async closeTimedOut(approvalId: string, now: Date | string): Promise<Approval> {
    const at = isoTime(now, 'now');
    return this.#transition(
      approvalId,
      at,
      { status: 'expired', decidedBy: 'vecguard', decidedAt: at },
      'any-time',
    );
  }

  /**
   * Every approval of a run in one scope, with those still pending closed as expired: called when the run
   * has ended, so no answer can reach it any more. An approval is left pending only when RequestApproval
   * stored it after Step Functions had already timed its task out (and RecordRejection found nothing to
   * close); without this it would wait for an answer that can change nothing.
   */
  async closeUnansweredOfRun(
    runId: string,
    scope: { accountId: string; region: string },
    now: Date | string,
    reason = 'the run ended without an answer',
  ): Promise<{ approvals: Approval[]; closedIds: string[] }> {
    const at = isoTime(now, 'now');
    const closedIds: string[] = [];
    const approvals = await Promise.all(
      (await this.listForRun(runId, scope)).map(async (a) => {
        if (a.status !== 'pending') return a;
        try {
          const closed = await this.#transition(
            a.approvalId,
            at,
            {
              status: 'expired',
              decidedBy: 'vecguard',
              decidedAt: at,
              reason,
            },
            'any-time',
          );
          closedIds.push(a.approvalId);
          return closed;
        } catch (e) {
          // Answered in the meantime: the answer stands (and reached no run).
          if (e instanceof ApprovalAlreadyDecidedError) return (await this.getApproval(a.approvalId)) ?? a;
          throw e;
        }
      }),
    );
    return { approvals, closedIds: closedIds.sort() };
  }

  async #transition(
    approvalId: string,
    now: string,
    changes: Record<string, string>,
    when: 'not-expired' | 'expired' | 'any-time',
  ): Promise<Approval> {
    const names: Record<string, string> = { '#status': 'status', '#expiresAt': 'expiresAt' };
    const values: Record<string, string> = { ':pending': 'pending', ':now': now };
    const sets: string[] = [];
    for (const [field, value] of Object.entries(changes)) {
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
    }
    // DynamoDB refuses an expression attribute value that no expression uses.
    if (when === 'any-time') delete values[':now'];
    const expiry =
      when === 'not-expired'
        ? '#expiresAt > :now'
        : when === 'expired'
          ? '#expiresAt <= :now'
          : 'attribute_exists(#expiresAt)';
    // 'any-time' asks nothing of the time, so a pending approval fails its condition only by not existing when
    // the update ran: created since (RequestApproval storing it as its task timed out), it is tried again.
    for (let attempt = 1; ; attempt++) {
      try {
        const { Attributes } = (await this.table.client.send(
          new UpdateCommand({
            TableName: this.table.tableName,
            Key: { pk: keys.approval(approvalId), sk: keys.approvalSk },
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression: `attribute_exists(pk) AND #status = :pending AND ${expiry}`,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
          }),
        )) as UpdateCommandOutput;
        return parseApproval(Attributes ?? {});
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw toCallError(error, 'UpdateItem');
      }
      // Why the condition failed decides the error a person reads.
      const current = await this.getApproval(approvalId);
      if (current === undefined) throw new ApprovalNotFoundError(approvalId);
      if (current.status !== 'pending') {
        throw new ApprovalAlreadyDecidedError(
          approvalId,
          current.status,
          current.decidedBy,
          current.decidedAt,
        );
      }
      if (when === 'not-expired') throw new ApprovalExpiredError(approvalId, current.expiresAt);
      if (when === 'expired')
        throw new RangeError(`approval ${approvalId} does not expire until ${current.expiresAt}`);
      if (attempt >= 2) throw new Error(`approval ${approvalId} is pending but could not be closed`);
    }
  }
}

const toCallError = (error: unknown, action: string) => toAwsCallError(error, 'dynamodb', action);

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
