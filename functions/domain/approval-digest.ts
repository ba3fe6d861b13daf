/**
 * What an approval binds to (docs/loop.md "An approval binds to what it showed"): not an action id, which
 * names only a kind and a resource (`move-instance:i-0a1b` stays the same whatever type the instance has),
 * but a digest of what the person was shown — the action's kind, resource, parameters and cost, and the
 * before-state of the resource the request was made on. Apply carries an approval over to a later plan only
 * when the digest of what is planned now is the one approved; anything different is asked again.
 *
 * The before-state is what the planner read of the resource and the approver saw in the summary (an
 * instance's type, a control's mode, a Transit Gateway's encryption state), never what changes as vecguard
 * does its own approved work (an exclusion settling, a control leaving `monitor-in-progress`): an approval
 * of "enforce once the exclusions are on" still holds when the next iteration finds them on.
 */
import type { InventorySnapshot } from './model.ts';
import type { PlannedAction, RemediationPlan } from './remediation-plan.ts';
import { sha256Hex } from './sha256.ts';

/** The resource as the request saw it: only fields an approver's decision rests on. */
export type BeforeState = Readonly<Record<string, string | null>>;

/** Everything one approved action is bound to; its digest is `actionDigest`. */
export interface ApprovalSubject {
  readonly kind: PlannedAction['kind'];
  readonly resourceId: string;
  readonly vpcId: string | null;
  readonly params: PlannedAction['params'];
  readonly monthlyCostDeltaUsd: number;
  readonly before: BeforeState;
}

type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json | undefined };

/**
 * JSON with object keys sorted at every depth and undefined members left out, so that the same value always
 * gives the same text (and digest), whatever order its keys were built in. Array order is kept: it is
 * meaningful (the planner sorts the lists it emits).
 */
export function canonicalJson(value: Json | undefined): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`canonical JSON has no ${value}`);
    return JSON.stringify(value);
  }
  if (value === undefined) throw new RangeError('canonical JSON has no undefined value');
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const object = value as { readonly [key: string]: Json | undefined };
  const members = Object.keys(object)
    .filter((k) => object[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(object[k])}`);
  return `{${members.join(',')}}`;
}

/** What the snapshot says of the resource an action changes, as far as the approval rests on it. */
export function beforeStateOf(action: PlannedAction, snapshot: InventorySnapshot): BeforeState {
  switch (action.kind) {
    case 'move-instance': {
      const id = action.params.instanceId ?? action.resourceId;
      const instance = snapshot.instances.find((i) => i.instanceId === id);
      return { instanceType: instance?.instanceType ?? null };
    }
    case 'create-monitor-control':
    case 'switch-to-enforce':
    case 'restore-enforce':
    case 'enable-exclusion':
    case 'disable-exclusion': {
      const vpcId = action.vpcId ?? action.resourceId;
      const vpc = snapshot.vpcs.find((v) => v.vpcId === vpcId);
      return { controlMode: vpc?.control?.mode ?? null };
    }
    case 'enable-tgw-encryption': {
      const id = action.params.transitGatewayId ?? action.resourceId;
      const tgw = snapshot.transitGateways.find((t) => t.transitGatewayId === id);
      return { encryptionSupport: tgw?.encryptionSupport ?? null };
    }
    case 'create-flow-log':
    case 'manual-guidance':
      // Their parameters say all: where the new flow log delivers, or what a person is told.
      return {};
  }
}

export function approvalSubject(action: PlannedAction, snapshot: InventorySnapshot): ApprovalSubject {
  return {
    kind: action.kind,
    resourceId: action.resourceId,
    vpcId: action.vpcId ?? null,
    params: action.params,
    monthlyCostDeltaUsd: action.monthlyCostDeltaUsd,
    before: beforeStateOf(action, snapshot),
  };
}

/** `sha256:` + the hex SHA-256 of the subject's canonical JSON. */
export function subjectDigest(subject: ApprovalSubject): string {
  return `sha256:${sha256Hex(canonicalJson(subject as unknown as Json))}`;
}

export function actionDigest(action: PlannedAction, snapshot: InventorySnapshot): string {
  return subjectDigest(approvalSubject(action, snapshot));
}

/** Each action's digest, by action id, for a plan and the snapshot it was made from. */
export function actionDigests(
  plan: Pick<RemediationPlan, 'actions'>,
  snapshot: InventorySnapshot,
): ReadonlyMap<string, string> {
  return new Map(plan.actions.map((a) => [a.id, actionDigest(a, snapshot)]));
}

/** The digest of a whole request: its actions' ids and digests, in the order shown. */
export function approvalDigest(
  actions: readonly { readonly actionId: string; readonly digest: string }[],
): string {
  const listed = actions.map((a) => ({ actionId: a.actionId, digest: a.digest }));
  return `sha256:${sha256Hex(canonicalJson(listed))}`;
}

/**
 * Whether an action, as planned now, is what a person approved earlier in the run: one of the approvals
 * listed the same action id with the same digest. An approval stored before digests existed binds nothing.
 */
export function approvedAsShown(
  actionId: string,
  digest: string | undefined,
  approved: ReadonlyMap<string, ReadonlySet<string>>,
): boolean {
  return digest !== undefined && (approved.get(actionId)?.has(digest) ?? false);
}
