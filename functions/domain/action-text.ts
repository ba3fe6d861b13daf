/** One line per planned action, for approval requests, reports and the CLI: what will change, in words. */
import { displayText } from './display-text.ts';
import { type InventorySnapshot, vpcName } from './model.ts';
import type { PlannedAction } from './remediation-plan.ts';

/** The names a person knows the snapshot's VPCs and Transit Gateways by (their Name tags), by id. */
export function namesOf(snapshot: InventorySnapshot): Record<string, string> {
  const names: Record<string, string> = {};
  for (const v of snapshot.vpcs) names[v.vpcId] = vpcName(v);
  for (const t of snapshot.transitGateways) if (t.tags.Name) names[t.transitGatewayId] = t.tags.Name;
  return names;
}

function where(action: PlannedAction, names: Readonly<Record<string, string>>): string {
  const id = action.vpcId ?? action.resourceId;
  const name = names[id];
  return name && name !== id ? `${id} (${name})` : id;
}

/**
 * The line for `action`, on one line whatever the names and AWS values in it hold (a Name tag with escapes,
 * line breaks or bidi overrides): it is stored in approvals and shown in terminals, messages and reports.
 */
export function describeAction(action: PlannedAction, names: Readonly<Record<string, string>> = {}): string {
  return displayText(actionText(action, names));
}

function actionText(action: PlannedAction, names: Readonly<Record<string, string>>): string {
  const p = action.params;
  const vpc = where(action, names);
  switch (action.kind) {
    case 'create-monitor-control':
      return `create an encryption control in monitor mode on ${vpc}`;
    case 'switch-to-enforce':
    case 'restore-enforce': {
      const verb = action.kind === 'restore-enforce' ? 'restore enforce mode on' : 'switch';
      const target = action.kind === 'restore-enforce' ? vpc : `${vpc} to enforce mode`;
      const exclusions = p.exclusions?.length
        ? ` (relying on the ${p.exclusions.join(', ')} exclusion${p.exclusions.length > 1 ? 's' : ''})`
        : '';
      return `${verb} ${target}${exclusions}`;
    }
    case 'enable-exclusion':
      return `enable the ${p.exclusion ?? '?'} exclusion on ${vpc}`;
    case 'disable-exclusion':
      return `disable the ${p.exclusion ?? '?'} exclusion on ${vpc}`;
    case 'move-instance':
      return `move ${p.instanceId ?? action.resourceId} in ${vpc} from ${p.fromInstanceType ?? '?'} to ${p.toInstanceType ?? '?'} (stop, change type, start)${p.driverCheckRequired ? '; Xen source: the image needs ENA and NVMe drivers' : ''}`;
    case 'enable-tgw-encryption':
      return `enable encryption support on Transit Gateway ${p.transitGatewayId ?? action.resourceId}`;
    case 'create-flow-log':
      return `create a flow log on ${vpc} that records encryption-status`;
    case 'manual-guidance':
      return `for a person: ${action.reason}`;
  }
}
