/**
 * Turn on a Transit Gateway's encryption support: `ModifyTransitGateway Options.EncryptionSupport=enable`, only
 * possible after creation, `enabling` for up to 14 days (docs/design.md §2). AWS refuses it while security-group
 * referencing or multicast is on (and with Connect, peering, Network Firewall or VPN Concentrator
 * attachments, which the planner turns into guidance; AWS has the last word on those). Bills every attached VPC.
 */
import { ModifyTransitGatewayCommand, type ModifyTransitGatewayResult } from '@aws-sdk/client-ec2';
import { type LiveTransitGateway, readTransitGateway, tgwEncryption, tgwSnapshot } from './live-state.ts';
import {
  type ActionContext,
  type ActionDefinition,
  type AppliedChange,
  changedNothing,
  NOTHING_TO_UNDO,
  outcomeFor,
  type Precondition,
  type VerifyOutcome,
} from './types.ts';

const KIND = 'enable-tgw-encryption';

function tgwOf(action: Pick<AppliedChange, 'resourceId' | 'params'>): string {
  return action.params.transitGatewayId ?? action.resourceId;
}

function afterOf(tgwId: string, output: ModifyTransitGatewayResult) {
  const t = output.TransitGateway;
  return tgwSnapshot(
    t
      ? {
          transitGatewayId: tgwId,
          state: t.State ?? 'unknown',
          encryptionState: t.Options?.EncryptionSupport?.EncryptionState ?? 'unknown',
          securityGroupReferencing: t.Options?.SecurityGroupReferencingSupport === 'enable',
          multicast: t.Options?.MulticastSupport === 'enable',
        }
      : null,
    tgwId,
  );
}

async function setEncryption(ctx: ActionContext, tgwId: string, enable: boolean) {
  return ctx.ec2.mutate<ModifyTransitGatewayResult>(
    new ModifyTransitGatewayCommand({
      TransitGatewayId: tgwId,
      Options: { EncryptionSupport: enable ? 'enable' : 'disable' },
    }),
  );
}

export const enableTgwEncryption: ActionDefinition<typeof KIND, LiveTransitGateway> = {
  kind: KIND,
  permissions: ['ec2:DescribeTransitGateways', 'ec2:ModifyTransitGateway'],
  description:
    'Enables encryption support on a Transit Gateway (can stay enabling for up to 14 days; bills every attached VPC).',

  async preconditions(ctx, action): Promise<Precondition<LiveTransitGateway>> {
    const tgwId = tgwOf(action);
    const tgw = await readTransitGateway(ctx.ec2, tgwId);
    const before = tgwSnapshot(tgw, tgwId);
    if (tgw === null) return { status: 'refused', reason: `${tgwId} no longer exists.`, before };
    const encryption = tgwEncryption(tgw.encryptionState);
    if (encryption === 'enabled' || encryption === 'enabling') {
      return {
        status: 'already-so',
        before,
        message: `Encryption support of ${tgwId} is already ${tgw.encryptionState}.`,
      };
    }
    if (encryption !== 'disabled') {
      return {
        status: 'refused',
        reason: `Encryption support of ${tgwId} is ${tgw.encryptionState}; it can be enabled once that settles.`,
        before,
      };
    }
    if (tgw.state !== 'available') {
      return {
        status: 'refused',
        reason: `${tgwId} is ${tgw.state}; it can be changed once available.`,
        before,
      };
    }
    const unmet = [
      ...(tgw.securityGroupReferencing ? ['security group referencing support is on'] : []),
      ...(tgw.multicast ? ['multicast support is on'] : []),
    ];
    if (unmet.length > 0) {
      return {
        status: 'refused',
        reason: `Encryption support cannot be enabled on ${tgwId}: ${unmet.join('; ')}.`,
        before,
      };
    }
    return { status: 'ok', before, live: tgw };
  },

  async apply(ctx, action, ready) {
    const tgwId = tgwOf(action);
    const out = outcomeFor(ctx, action);
    const result = await setEncryption(ctx, tgwId, true);
    if (result.dryRun)
      return out('dry-run', `Would enable encryption support on ${tgwId}.`, { before: ready.before });
    return out('applied', `Enabling encryption support on ${tgwId} (can take up to 14 days).`, {
      before: ready.before,
      after: afterOf(tgwId, result.output),
    });
  },

  async verify(ctx, action): Promise<VerifyOutcome> {
    const tgwId = tgwOf(action);
    const tgw = await readTransitGateway(ctx.ec2, tgwId);
    const state = tgwSnapshot(tgw, tgwId);
    if (tgw === null) return { status: 'failed', message: `${tgwId} no longer exists.`, state };
    const encryption = tgwEncryption(tgw.encryptionState);
    const said = tgw.encryptionMessage ? ` (${tgw.encryptionMessage})` : '';
    switch (encryption) {
      case 'enabled':
        return { status: 'done', message: `Encryption support of ${tgwId} is enabled.`, state };
      case 'enabling':
      case 'unknown':
        return {
          status: 'pending',
          message: `Encryption support of ${tgwId} is ${tgw.encryptionState}${said}.`,
          state,
        };
      default:
        return {
          status: 'failed',
          message: `Encryption support of ${tgwId} is ${tgw.encryptionState}${said}.`,
          state,
        };
    }
  },

  /** Disables encryption support again; AWS refuses while it is still enabling, so that is a refusal here too. */
  async undo(ctx, entry) {
    const out = outcomeFor(ctx, entry);
    if (changedNothing(entry)) return out('already-so', NOTHING_TO_UNDO);
    const tgwId = tgwOf(entry);
    const tgw = await readTransitGateway(ctx.ec2, tgwId);
    const before = tgwSnapshot(tgw, tgwId);
    if (tgw === null) return out('already-so', `${tgwId} no longer exists.`, { before });
    const encryption = tgwEncryption(tgw.encryptionState);
    if (encryption === 'disabled' || encryption === 'disabling') {
      return out('already-so', `Encryption support of ${tgwId} is ${tgw.encryptionState}.`, { before });
    }
    if (encryption !== 'enabled' || tgw.state !== 'available') {
      return out(
        'refused',
        `Encryption support of ${tgwId} is ${tgw.encryptionState} (${tgw.state}); undo once it settles.`,
        {
          before,
        },
      );
    }
    const result = await setEncryption(ctx, tgwId, false);
    if (result.dryRun) return out('dry-run', `Would disable encryption support on ${tgwId}.`, { before });
    return out('applied', `Disabling encryption support on ${tgwId}.`, {
      before,
      after: afterOf(tgwId, result.output),
    });
  },
};
