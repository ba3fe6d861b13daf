import { INSTANCE_TYPES, loadScenarioFile } from '@vecguard/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicyFile } from '../../cli/commands/policy.ts';
import { Ec2Gateway } from '../../functions/adapters/ec2-gateway.ts';
import { readInventory } from '../../functions/adapters/inventory.ts';
import { audit } from '../../functions/domain/audit.ts';
import type { InventorySnapshot } from '../../functions/domain/model.ts';
import { type Ec2Harness, startEc2Harness } from '../support/sandbox.ts';

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
    // edge is not attached to the Transit Gateway; payments is.
    expect(one.transitGateways).toEqual([]);
    const paymentsId = byName('payments')?.vpcId as string;
    const payments = await readInventory(gateway, {
      accountId: ACCOUNT,
      region: REGION,
      takenAt: '2026-11-24T00:00:00.000Z',
      vpcIds: [paymentsId],
    });
    expect(payments.transitGateways.map((t) => t.tags.Name)).toEqual(['core']);
  });

  it('a VPC an event named that is gone by now is simply absent: the others are still read', async () => {
    const edgeId = byName('edge')?.vpcId as string;
    const read = await readInventory(gateway, {
      accountId: ACCOUNT,
      region: REGION,
      takenAt: '2026-11-24T00:00:00.000Z',
      vpcIds: ['vpc-0a1b2c3d4e5f60718', edgeId],
    });
    expect(read.vpcs.map((v) => v.vpcId)).toEqual([edgeId]);
    expect(read.vpcs[0]?.control).toEqual(byName('edge')?.control);
  });

  it('makes no mutating call while reading', () => {
    expect(gateway.stats.mutating).toBe(0);
    expect(h.sandbox.calls.query().filter((c) => c.mutating)).toEqual([]);
  });
});

describe('inventory: the fewest calls, and the paced ones first', () => {
  let h: Ec2Harness;
  beforeAll(async () => {
    h = await startEc2Harness({ ec2: { scenario: loadScenarioFile('default').estate } });
  });
  afterAll(() => h.sandbox.stop());
  const read = (gateway: Ec2Gateway) =>
    readInventory(gateway, { accountId: ACCOUNT, region: REGION, takenAt: '2026-11-24T00:00:00.000Z' });

  it('asks for blockers without waiting for the other lists (EC2 paces the blocker calls)', async () => {
    // DescribeInstances answers late; the blocker calls, which need only the VPCs and their controls, go first.
    const rule = h.sandbox.faults.add({ service: 'ec2', action: 'DescribeInstances', latencyMs: 500 });
    const since = h.sandbox.calls.lastSeq;
    try {
      await read(new Ec2Gateway({ client: h.ec2, limiter: null }));
    } finally {
      h.sandbox.faults.remove(rule.id);
    }
    const answered = (action: string) =>
      h.sandbox.calls.query({ service: 'ec2', action, sinceSeq: since }).map((c) => c.seq);
    const blockers = answered('GetVpcResourcesBlockingEncryptionEnforcement');
    expect(blockers).toHaveLength(2);
    expect(Math.max(...blockers)).toBeLessThan(Math.min(...answered('DescribeInstances')));
  });

  it('asks for the types in use only when the capable list lacks them', async () => {
    const gateway = new Ec2Gateway({ client: h.ec2, limiter: null });
    const snapshot = await read(gateway);
    const capable = [...INSTANCE_TYPES.values()].filter((t) => t.encryptionInTransitSupported).length;
    // The capable catalogue in pages of 100, and one call for the default estate's non-capable types.
    expect(gateway.stats.byAction.DescribeInstanceTypes).toBe(Math.ceil(capable / 100) + 1);
    const inUse = new Set(snapshot.instances.map((i) => i.instanceType));
    expect(snapshot.instanceTypes.filter((t) => inUse.has(t.instanceType))).toHaveLength(inUse.size);

    // payments runs only capable types (m6i): the capable list already describes them.
    const payments = snapshot.vpcs.find((v) => v.tags.Name === 'payments')?.vpcId as string;
    const narrowed = new Ec2Gateway({ client: h.ec2, limiter: null });
    const one = await readInventory(narrowed, {
      accountId: ACCOUNT,
      region: REGION,
      takenAt: '2026-11-24T00:00:00.000Z',
      vpcIds: [payments],
    });
    expect(narrowed.stats.byAction.DescribeInstanceTypes).toBe(Math.ceil(capable / 100));
    expect(one.instanceTypes.find((t) => t.instanceType === 'm6i.large')).toMatchObject({
      encryptionInTransitSupported: true,
    });
  });
});
