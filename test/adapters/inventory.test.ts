import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenarioFile } from '#sandbox/scenarios/index.ts';
import { loadPolicyFile } from '../../cli/commands/policy.ts';
import { Ec2Gateway } from '../../functions/adapters/ec2-gateway.ts';
import { readInventory } from '../../functions/adapters/inventory.ts';
import { audit } from '../../functions/domain/audit.ts';
import type { InventorySnapshot } from '../../functions/domain/model.ts';
import { type Ec2Harness, startEc2Harness } from '../sandbox/ec2-harness.ts';

const ACCOUNT = '111111111111';
const REGION = 'us-east-1';

describe('inventory of the default scenario, read through the real EC2 client', () => {
  let h: Ec2Harness;
  let gateway: Ec2Gateway;
  let snapshot: InventorySnapshot;
  const byName = (name: string) => snapshot.vpcs.find((v) => v.tags.Name === name);

  beforeAll(async () => {
    h = await startEc2Harness({ ec2: { scenario: loadScenarioFile('default').estate } });
    gateway = new Ec2Gateway({ client: h.ec2, limiter: null });
    snapshot = await readInventory(gateway, {
      accountId: ACCOUNT,
      region: REGION,
      takenAt: '2026-11-24T00:00:00.000Z',
    });
  });
  afterAll(() => h.sandbox.stop());

  it('finds every VPC with its tags and control', () => {
    expect(snapshot.vpcs.map((v) => v.tags.Name).sort()).toEqual(
      ['analytics', 'edge', 'inspection', 'legacy', 'payments', 'shared'].sort(),
    );
    expect(byName('payments')?.control).toMatchObject({ mode: 'monitor', state: 'available' });
    expect(byName('legacy')?.control).toBeNull();
  });

  it('reads blockers only for monitored VPCs, and edge is blocked by its gateways', () => {
    const edge = byName('edge');
    expect(edge?.blockers.map((b) => b.isExcludable)).toEqual([true, true]);
    expect(byName('legacy')?.blockers).toEqual([]);
    expect(gateway.stats.byAction.GetVpcResourcesBlockingEncryptionEnforcement).toBe(2);
  });

  it('knows instances, their ASG membership, ENIs, gateways, peerings, the TGW and the type catalogue', () => {
    const legacy = byName('legacy');
    const legacyInstances = snapshot.instances.filter((i) => i.vpcId === legacy?.vpcId);
    expect(legacyInstances.map((i) => i.instanceType).sort()).toEqual([
      'c5.xlarge',
      'm4.large',
      'm5.large',
      't2.medium',
    ]);
    expect(legacyInstances.find((i) => i.instanceType === 'm5.large')?.autoScalingGroupName).toBe(
      'legacy-workers',
    );
    expect(snapshot.gateways.map((g) => g.kind).sort()).toEqual(['internet-gateway', 'nat-gateway']);
    expect(snapshot.peeringConnections).toHaveLength(1);
    expect(snapshot.transitGateways[0]).toMatchObject({ encryptionSupport: 'disabled' });
    expect(snapshot.transitGateways[0]?.attachments).toHaveLength(2);
    const m4 = snapshot.instanceTypes.find((t) => t.instanceType === 'm4.large');
    expect(m4).toMatchObject({ hypervisor: 'xen', encryptionInTransitSupported: false });
    expect(snapshot.instanceTypes.filter((t) => t.encryptionInTransitSupported).length).toBeGreaterThan(10);
    expect(snapshot.networkInterfaces.some((n) => n.interfaceType === 'gateway_load_balancer')).toBe(true);
  });

  it('the audit of that snapshot under the example policy gives the expected first verdicts', () => {
    const report = audit(snapshot, loadPolicyFile('examples/vecguard.policy.yaml'));
    const verdicts = Object.fromEntries(report.vpcs.map((v) => [v.name, v.verdict]));
    expect(verdicts).toEqual({
      payments: 'READY_TO_ENFORCE',
      legacy: 'UNMONITORED',
      edge: 'READY_TO_ENFORCE',
      analytics: 'UNMONITORED',
      inspection: 'UNMONITORED',
      shared: 'EXEMPT',
    });
    expect(report.transitGateways[0]?.verdict).toBe('TGW_ENCRYPTION_DISABLED');
    expect(report.peerings[0]?.verdict).toBe('PEERING_NEEDS_EXCLUSION');
  });

  it('a scope narrowed to one VPC reads only that VPC', async () => {
    const edgeId = byName('edge')?.vpcId as string;
    const one = await readInventory(gateway, {
      accountId: ACCOUNT,
      region: REGION,
      takenAt: '2026-11-24T00:00:00.000Z',
      vpcIds: [edgeId],
    });
    expect(one.vpcs.map((v) => v.vpcId)).toEqual([edgeId]);
    expect(one.gateways.every((g) => g.vpcId === edgeId)).toBe(true);
    expect(one.instances.every((i) => i.vpcId === edgeId)).toBe(true);
  });

  it('makes no mutating call while reading', () => {
    expect(gateway.stats.mutating).toBe(0);
    expect(h.sandbox.calls.query().filter((c) => c.mutating)).toEqual([]);
  });
});
