import {
  CreateVpcCommand,
  CreateVpcEncryptionControlCommand,
  DeleteVpcEncryptionControlCommand,
  DescribeAccountVpcEncryptionControlCommand,
  DescribeInstancesCommand,
  DescribeVpcEncryptionControlsCommand,
  DescribeVpcsCommand,
  type EC2Client,
  GetVpcResourcesBlockingEncryptionEnforcementCommand,
  ModifyAccountVpcEncryptionControlCommand,
  ModifyInstanceAttributeCommand,
  ModifyVpcEncryptionControlCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type Ec2Harness, MINUTE, startEc2Harness } from './ec2-harness.ts';

const ACCOUNT = '111111111111';
const scope = `${ACCOUNT}/us-east-1`;

const scenario = {
  accounts: [
    {
      id: ACCOUNT,
      regions: [
        {
          name: 'us-east-1',
          vpcs: [
            { name: 'clean', instances: [{ name: 'web', type: 'm6i.large', count: 2 }] },
            { name: 'legacy', instances: [{ name: 'old', type: 'm5.large' }] },
            {
              name: 'old-image',
              instances: [{ name: 'xen', type: 'm4.large', state: 'stopped' as const, enaSupport: false }],
            },
            {
              name: 'edge',
              internetGateway: true,
              natGateways: [{ name: 'nat' }],
              instances: [{ name: 'api', type: 'c7g.large' }],
              networkInterfaces: [
                { name: 'fn', interfaceType: 'lambda', description: 'AWS Lambda VPC ENI-orders' },
              ],
            },
            {
              name: 'inspected',
              networkInterfaces: [{ name: 'gwlbe', interfaceType: 'gateway_load_balancer_endpoint' }],
            },
            { name: 'enforced', encryptionControl: { mode: 'enforce' as const }, subnets: [{ name: 'a' }] },
            { name: 'peer-a', cidr: '10.20.0.0/16', encryptionControl: { mode: 'enforce' as const } },
            { name: 'peer-b', cidr: '10.21.0.0/16', encryptionControl: { mode: 'monitor' as const } },
          ],
          peerings: [{ name: 'ab', requester: { vpc: 'peer-a' }, accepter: { vpc: 'peer-b' } }],
        },
      ],
    },
    {
      id: '999999999999',
      regions: [
        {
          name: 'us-east-1',
          accountControl: { mode: 'attempt-enforce' as const, managedBy: 'declarative-policy' as const },
          vpcs: [{ name: 'managed' }],
        },
      ],
    },
  ],
};

describe('VPC Encryption Controls', () => {
  let h: Ec2Harness;
  let ec2: EC2Client;
  const id = (name: string): string => {
    const found = h.sandbox.ec2.scenarioIds[`${scope}/${name}`];
    if (found === undefined) {
      throw new Error(`no scenario id ${name}`);
    }
    return found;
  };
  const control = async (vpcId: string) =>
    (await ec2.send(new DescribeVpcEncryptionControlsCommand({ VpcIds: [vpcId] })))
      .VpcEncryptionControls?.[0];
  const blockers = async (vpcId: string) =>
    (await ec2.send(new GetVpcResourcesBlockingEncryptionEnforcementCommand({ VpcId: vpcId })))
      .NonCompliantResources ?? [];

  beforeEach(async () => {
    h = await startEc2Harness({
      ec2: {
        scenario,
        durations: {
          controlCreateMs: MINUTE,
          monitorMs: 5 * MINUTE,
          enforceMs: 10 * MINUTE,
          exclusionMs: 2 * MINUTE,
        },
      },
    });
    ec2 = h.ec2;
  });
  afterEach(async () => {
    await h.sandbox.stop();
  });

  test('a new control walks creating → monitor-in-progress → available (monitor) on the clock, then enforce-in-progress → available (enforce)', async () => {
    const vpcId = id('clean');
    const created = await ec2.send(new CreateVpcEncryptionControlCommand({ VpcId: vpcId }));
    expect(created.VpcEncryptionControl).toMatchObject({ Mode: 'monitor', State: 'creating' });
    h.sandbox.clock.advance(MINUTE);
    expect(await control(vpcId)).toMatchObject({ Mode: 'monitor', State: 'monitor-in-progress' });
    h.sandbox.clock.advance(5 * MINUTE);
    expect(await control(vpcId)).toMatchObject({ Mode: 'monitor', State: 'available' });

    const controlId = created.VpcEncryptionControl?.VpcEncryptionControlId;
    const modified = await ec2.send(
      new ModifyVpcEncryptionControlCommand({ VpcEncryptionControlId: controlId, Mode: 'enforce' }),
    );
    expect(modified.VpcEncryptionControl).toMatchObject({ Mode: 'enforce', State: 'enforce-in-progress' });
    h.sandbox.clock.advance(10 * MINUTE - 1);
    expect((await control(vpcId))?.State).toBe('enforce-in-progress');
    h.sandbox.clock.advance(1);
    expect(await control(vpcId)).toMatchObject({ Mode: 'enforce', State: 'available' });
    const vpc = (await ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))).Vpcs?.[0];
    expect(vpc?.EncryptionControl).toMatchObject({ Mode: 'enforce', State: 'available' });
  });

  test('a change during a transition is IncorrectState', async () => {
    const created = await ec2.send(new CreateVpcEncryptionControlCommand({ VpcId: id('clean') }));
    await expect(
      ec2.send(
        new ModifyVpcEncryptionControlCommand({
          VpcEncryptionControlId: created.VpcEncryptionControl?.VpcEncryptionControlId,
          Mode: 'enforce',
        }),
      ),
    ).rejects.toMatchObject({ name: 'IncorrectState' });
  });

  test('blockers come from the resources in the VPC: a non-capable instance is not excludable', async () => {
    const legacy = await blockers(id('legacy'));
    expect(legacy).toEqual([
      expect.objectContaining({
        Id: expect.stringMatching(/^eni-/),
        Type: 'NetworkInterface',
        IsExcludable: false,
      }),
    ]);
    expect(legacy[0]?.Description).toContain('m5.large');
    expect(await blockers(id('clean'))).toEqual([]);
  });

  test('gateways and Lambda ENIs are excludable; a GWLB endpoint is not', async () => {
    const edge = await blockers(id('edge'));
    expect(edge.map((b) => [b.Id?.split('-')[0], b.IsExcludable]).sort()).toEqual([
      ['eni', true],
      ['igw', true],
      ['nat', true],
    ]);
    expect(await blockers(id('inspected'))).toEqual([expect.objectContaining({ IsExcludable: false })]);
  });

  test('enforce is refused while a non-excludable blocker remains; moving the instance to a capable type unblocks it', async () => {
    const vpcId = id('legacy');
    const controlId = (await ec2.send(new CreateVpcEncryptionControlCommand({ VpcId: vpcId })))
      .VpcEncryptionControl?.VpcEncryptionControlId;
    h.sandbox.clock.advance(10 * MINUTE);
    await expect(
      ec2.send(new ModifyVpcEncryptionControlCommand({ VpcEncryptionControlId: controlId, Mode: 'enforce' })),
    ).rejects.toMatchObject({ name: 'IncorrectState', message: expect.stringContaining('not excludable') });

    const instanceId = id('legacy/old');
    await expect(
      ec2.send(
        new ModifyInstanceAttributeCommand({ InstanceId: instanceId, InstanceType: { Value: 'm7i.large' } }),
      ),
    ).rejects.toMatchObject({ name: 'IncorrectInstanceState' });
    await ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
    h.sandbox.clock.advance(MINUTE);
    await ec2.send(
      new ModifyInstanceAttributeCommand({ InstanceId: instanceId, InstanceType: { Value: 'm7i.large' } }),
    );
    await ec2.send(new StartInstancesCommand({ InstanceIds: [instanceId] }));
    expect(await blockers(vpcId)).toEqual([]);
    await ec2.send(
      new ModifyVpcEncryptionControlCommand({ VpcEncryptionControlId: controlId, Mode: 'enforce' }),
    );
    h.sandbox.clock.advance(10 * MINUTE);
    expect(await control(vpcId)).toMatchObject({ Mode: 'enforce', State: 'available' });
  });

  test('a Nitro type is refused for an instance whose image is not enabled for ENA', async () => {
    const instanceId = id('old-image/xen');
    await expect(
      ec2.send(
        new ModifyInstanceAttributeCommand({ InstanceId: instanceId, InstanceType: { Value: 'm6i.large' } }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterCombination', message: expect.stringContaining('ENA') });
    const { Reservations } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    expect(Reservations?.[0]?.Instances?.[0]).toMatchObject({ InstanceType: 'm4.large', EnaSupport: false });
    // A Xen type needs no ENA.
    await ec2.send(
      new ModifyInstanceAttributeCommand({ InstanceId: instanceId, InstanceType: { Value: 'm4.xlarge' } }),
    );
  });

  test('excludable blockers need their exclusions; exclusions go enabling → enabled and then stop blocking', async () => {
    const vpcId = id('edge');
    const controlId = (await ec2.send(new CreateVpcEncryptionControlCommand({ VpcId: vpcId })))
      .VpcEncryptionControl?.VpcEncryptionControlId;
    h.sandbox.clock.advance(10 * MINUTE);
    await expect(
      ec2.send(
        new ModifyVpcEncryptionControlCommand({
          VpcEncryptionControlId: controlId,
          Mode: 'enforce',
          InternetGatewayExclusion: 'enable',
        }),
      ),
    ).rejects.toMatchObject({ name: 'IncorrectState', message: expect.stringContaining('NatGateway') });

    const result = await ec2.send(
      new ModifyVpcEncryptionControlCommand({
        VpcEncryptionControlId: controlId,
        Mode: 'enforce',
        InternetGatewayExclusion: 'enable',
        NatGatewayExclusion: 'enable',
        LambdaExclusion: 'enable',
      }),
    );
    expect(result.VpcEncryptionControl?.ResourceExclusions?.InternetGateway?.State).toBe('enabling');
    h.sandbox.clock.advance(2 * MINUTE);
    expect((await control(vpcId))?.ResourceExclusions?.NatGateway?.State).toBe('enabled');
    expect(await blockers(vpcId)).toEqual([]);
    h.sandbox.clock.advance(8 * MINUTE);
    expect(await control(vpcId)).toMatchObject({ Mode: 'enforce', State: 'available' });
  });

  test('CreateVpc with VpcEncryptionControl starts directly in enforce', async () => {
    const vpc = await ec2.send(
      new CreateVpcCommand({ CidrBlock: '10.50.0.0/16', VpcEncryptionControl: { Mode: 'enforce' } }),
    );
    expect(vpc.Vpc?.EncryptionControl).toMatchObject({ Mode: 'enforce', State: 'creating' });
    h.sandbox.clock.advance(MINUTE);
    expect(await control(vpc.Vpc?.VpcId as string)).toMatchObject({ Mode: 'enforce', State: 'available' });
  });

  test('an enforced VPC refuses to launch a non-capable instance type, and accepts a capable one', async () => {
    const subnetId = id('enforced/a');
    await expect(
      ec2.send(
        new RunInstancesCommand({ SubnetId: subnetId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }),
      ),
    ).rejects.toMatchObject({ name: 'VpcEncryptionControlViolation' });
    const ok = await ec2.send(
      new RunInstancesCommand({ SubnetId: subnetId, InstanceType: 'm7g.large', MinCount: 1, MaxCount: 1 }),
    );
    expect(ok.Instances?.[0]?.InstanceType).toBe('m7g.large');
  });

  test('a peering blocks unless the same-Region peer is in enforce', async () => {
    expect((await blockers(id('peer-a'))).map((b) => b.Type)).toEqual(['VpcPeeringConnection']);
    expect(await blockers(id('peer-b'))).toEqual([]);
  });

  test('a peer enforced with a temporary VpcPeering exclusion still unblocks the other side', async () => {
    const controlId = (await control(id('peer-a')))?.VpcEncryptionControlId;
    await ec2.send(
      new ModifyVpcEncryptionControlCommand({
        VpcEncryptionControlId: controlId,
        VpcPeeringExclusion: 'enable',
      }),
    );
    h.sandbox.clock.advance(10 * MINUTE);
    expect((await control(id('peer-a')))?.ResourceExclusions?.VpcPeering?.State).toBe('enabled');
    expect(await blockers(id('peer-b'))).toEqual([]);
  });

  test('an injected failure ends the next transition in enforce-failed with its StateMessage', async () => {
    const vpcId = id('clean');
    const controlId = (await ec2.send(new CreateVpcEncryptionControlCommand({ VpcId: vpcId })))
      .VpcEncryptionControl?.VpcEncryptionControlId;
    h.sandbox.clock.advance(10 * MINUTE);
    h.sandbox.ec2.failNextTransition(vpcId, 'Internal failure while enforcing');
    await ec2.send(
      new ModifyVpcEncryptionControlCommand({ VpcEncryptionControlId: controlId, Mode: 'enforce' }),
    );
    h.sandbox.clock.advance(10 * MINUTE);
    expect(await control(vpcId)).toMatchObject({
      State: 'enforce-failed',
      StateMessage: 'Internal failure while enforcing',
    });
    // The failure is one-shot: retrying succeeds.
    await ec2.send(
      new ModifyVpcEncryptionControlCommand({ VpcEncryptionControlId: controlId, Mode: 'enforce' }),
    );
    h.sandbox.clock.advance(10 * MINUTE);
    expect(await control(vpcId)).toMatchObject({ Mode: 'enforce', State: 'available' });
  });

  test('a blocker that appears during enforce-in-progress fails the transition', async () => {
    const vpcId = id('clean');
    const controlId = (await ec2.send(new CreateVpcEncryptionControlCommand({ VpcId: vpcId })))
      .VpcEncryptionControl?.VpcEncryptionControlId;
    h.sandbox.clock.advance(10 * MINUTE);
    await ec2.send(
      new ModifyVpcEncryptionControlCommand({ VpcEncryptionControlId: controlId, Mode: 'enforce' }),
    );
    h.sandbox.ec2.drift({ kind: 'add-instance', vpcId, instanceType: 't2.micro' });
    h.sandbox.clock.advance(10 * MINUTE);
    expect((await control(vpcId))?.State).toBe('enforce-failed');
  });

  test('drift through the control API: enforce switched back to monitor behind the product’s back', async () => {
    const vpcId = id('enforced');
    const response = await fetch(`${h.sandbox.url}/_sandbox/ec2/drift`, {
      method: 'POST',
      body: JSON.stringify({ kind: 'set-control', vpcId, mode: 'monitor' }),
    });
    expect(response.status).toBe(200);
    expect(await control(vpcId)).toMatchObject({ Mode: 'monitor', State: 'available' });
  });

  test('delete goes deleting → deleted and the VPC loses its control', async () => {
    const vpcId = id('enforced');
    const controlId = id('enforced/control');
    const deleted = await ec2.send(
      new DeleteVpcEncryptionControlCommand({ VpcEncryptionControlId: controlId }),
    );
    expect(deleted.VpcEncryptionControl?.State).toBe('deleting');
    h.sandbox.clock.advance(5 * MINUTE);
    expect((await control(vpcId))?.State).toBe('deleted');
    expect(
      (await ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))).Vpcs?.[0]?.EncryptionControl,
    ).toBeUndefined();
    await expect(
      ec2.send(new ModifyVpcEncryptionControlCommand({ VpcEncryptionControlId: controlId, Mode: 'monitor' })),
    ).rejects.toMatchObject({ name: 'InvalidVpcEncryptionControlId.NotFound' });
  });

  test('unknown VPC ids are InvalidVpcID.NotFound', async () => {
    await expect(
      ec2.send(new GetVpcResourcesBlockingEncryptionEnforcementCommand({ VpcId: 'vpc-0123456789abcdef0' })),
    ).rejects.toMatchObject({ name: 'InvalidVpcID.NotFound' });
  });

  test('GetVpcResourcesBlockingEncryptionEnforcement pages within 5–1000', async () => {
    for (let i = 0; i < 7; i++) {
      h.sandbox.ec2.drift({ kind: 'add-instance', vpcId: id('legacy'), instanceType: 'c5.large' });
    }
    const first = await ec2.send(
      new GetVpcResourcesBlockingEncryptionEnforcementCommand({ VpcId: id('legacy'), MaxResults: 5 }),
    );
    expect(first.NonCompliantResources).toHaveLength(5);
    const second = await ec2.send(
      new GetVpcResourcesBlockingEncryptionEnforcementCommand({
        VpcId: id('legacy'),
        MaxResults: 5,
        NextToken: first.NextToken,
      }),
    );
    expect(second.NonCompliantResources).toHaveLength(3);
    expect(second.NextToken).toBeUndefined();
  });

  test('the account-level control: attempt-monitor puts every VPC under monitor', async () => {
    const account = await ec2.send(new DescribeAccountVpcEncryptionControlCommand({}));
    expect(account.AccountVpcEncryptionControl).toMatchObject({ Mode: 'unmanaged', ManagedBy: 'account' });
    const modified = await ec2.send(
      new ModifyAccountVpcEncryptionControlCommand({ Mode: 'attempt-monitor', Lambda: 'enable' }),
    );
    expect(modified.AccountVpcEncryptionControl?.State).toBe('transitions-in-progress');
    h.sandbox.clock.advance(10 * MINUTE);
    const after = await ec2.send(new DescribeAccountVpcEncryptionControlCommand({}));
    expect(after.AccountVpcEncryptionControl).toMatchObject({
      Mode: 'attempt-monitor',
      State: 'transitions-successful',
      Exclusions: { Lambda: 'enabled' },
    });
    expect(await control(id('legacy'))).toMatchObject({ Mode: 'monitor', State: 'available' });
  });

  test('a declarative-policy account reports its control and refuses changes', async () => {
    const member = h.client('AKIDSANDBOX999999999999');
    const account = await member.send(new DescribeAccountVpcEncryptionControlCommand({}));
    expect(account.AccountVpcEncryptionControl).toMatchObject({
      ManagedBy: 'declarative-policy',
      Mode: 'attempt-enforce',
    });
    await expect(
      member.send(new ModifyAccountVpcEncryptionControlCommand({ Mode: 'unmanaged' })),
    ).rejects.toMatchObject({
      name: 'OperationNotPermitted',
    });
    const vpcId = h.sandbox.ec2.scenarioIds['999999999999/us-east-1/managed'];
    await expect(member.send(new CreateVpcEncryptionControlCommand({ VpcId: vpcId }))).rejects.toMatchObject({
      name: 'OperationNotPermitted',
    });
  });

  test('accounts are isolated: another account does not see these VPCs', async () => {
    const member = h.client('AKIDSANDBOX999999999999');
    const vpcs = (await member.send(new DescribeVpcsCommand({}))).Vpcs ?? [];
    expect(vpcs.map((v) => v.OwnerId)).toEqual(['999999999999']);
  });

  test('DryRun on ModifyVpcEncryptionControl validates, answers DryRunOperation and changes nothing', async () => {
    const controlId = id('enforced/control');
    await expect(
      ec2.send(
        new ModifyVpcEncryptionControlCommand({
          VpcEncryptionControlId: controlId,
          Mode: 'monitor',
          DryRun: true,
        }),
      ),
    ).rejects.toMatchObject({ name: 'DryRunOperation' });
    expect((await control(id('enforced')))?.Mode).toBe('enforce');
  });
});
