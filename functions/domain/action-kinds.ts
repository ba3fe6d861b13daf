/**
 * The vocabulary of remediation: every kind of action vecguard can plan, the risks each carries, and the
 * gate a policy applies to it. The action *implementations* (apply/verify/undo, IAM permissions) live with
 * the adapters; the domain only needs to know what a kind is and how risky it is.
 */
import { z } from 'zod';

export const ACTION_KINDS = [
  'create-monitor-control',
  'switch-to-enforce',
  'enable-exclusion',
  'disable-exclusion',
  'move-instance',
  'enable-tgw-encryption',
  'create-flow-log',
  'restore-enforce',
  'manual-guidance',
] as const;
export const ActionKindSchema = z.enum(ACTION_KINDS);
export type ActionKind = z.infer<typeof ActionKindSchema>;

/** The kinds a policy can gate; manual guidance is advice, never applied, so it has no gate. */
export const GATED_ACTION_KINDS = ACTION_KINDS.filter(
  (k): k is Exclude<ActionKind, 'manual-guidance'> => k !== 'manual-guidance',
);
export type GatedActionKind = Exclude<ActionKind, 'manual-guidance'>;

/**
 * What one attempt at an action came to, as the audit log records it. `refused`: a precondition on the live
 * state said no; nothing changed (kept so a person sees why). `already-so` is a success: nothing to change.
 */
export const ActionOutcomeSchema = z.enum(['applied', 'dry-run', 'failed', 'already-so', 'refused']);
export type ActionOutcome = z.infer<typeof ActionOutcomeSchema>;

export const GateSchema = z.enum(['auto', 'approval', 'off']);
export type Gate = z.infer<typeof GateSchema>;

/**
 * - cost: adds to the AWS bill (encryption controls bill per VPC-hour, flow logs per GB, TGW encryption
 *   bills every attached VPC);
 * - posture: weakens what is enforced (an exclusion lets clear traffic through a gateway);
 * - disruptive: interrupts workloads or can refuse traffic (instance stop/start, enforce mode).
 */
export const RiskSchema = z.enum(['cost', 'posture', 'disruptive']);
export type Risk = z.infer<typeof RiskSchema>;

export const ACTION_RISKS: Readonly<Record<ActionKind, readonly Risk[]>> = {
  'create-monitor-control': ['cost'],
  'switch-to-enforce': ['disruptive'],
  'enable-exclusion': ['posture'],
  // Removing an exclusion can cut traffic that still relies on the gateway.
  'disable-exclusion': ['disruptive'],
  'move-instance': ['disruptive', 'cost'],
  'enable-tgw-encryption': ['cost'],
  'create-flow-log': ['cost'],
  'restore-enforce': ['disruptive'],
  'manual-guidance': [],
};

/** What a kind changes if it is applied; manual guidance changes nothing. */
export function isMutating(kind: ActionKind): boolean {
  return kind !== 'manual-guidance';
}
