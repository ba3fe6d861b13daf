import {
  AcceptVpcPeeringConnectionCommand,
  AttachInternetGatewayCommand,
  AttachVpnGatewayCommand,
  CreateEgressOnlyInternetGatewayCommand,
  CreateFlowLogsCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateTransitGatewayCommand,
  CreateTransitGatewayVpcAttachmentCommand,
  CreateVpcCommand,
  CreateVpcPeeringConnectionCommand,
  CreateVpnGatewayCommand,
  DeleteTagsCommand,
  DeleteVpcCommand,
  DescribeEgressOnlyInternetGatewaysCommand,
  DescribeFlowLogsCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  DescribeTransitGatewayAttachmentsCommand,
  DescribeTransitGatewaysCommand,
  DescribeVpcPeeringConnectionsCommand,
  DescribeVpcsCommand,
  DescribeVpnGatewaysCommand,
  DetachInternetGatewayCommand,
  ModifyTransitGatewayCommand,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Ec2Harness, MINUTE, startEc2Harness } from './ec2-harness.ts';

describe('EC2 resources through the real client', () => {
  let h: Ec2Harness;
  let vpcId: string;
  let subnetId: string;
  beforeAll(async () => {
    h = await startEc2Harness({
      ec2: {
        scenario: {
          accounts: [
            {
              id: '111111111111',
              regions: [
                {
                  name: 'us-east-1',
                  vpcs: [
                    {
                      name: 'svc',
                      networkInterfaces: [
                        {
                          name: 'nlb',
                          interfaceType: 'network_load_balancer',
                          description: 'ELB net/front/1',
                        },
                        { name: 'fn', interfaceType: 'lambda', description: 'AWS Lambda VPC ENI-orders' },
                      ],
                    },
                  ],
                  transitGateways: [{ name: 'hub', attachments: [{ name: 'sdwan', type: 'connect' }] }],
                },
              ],
            },
          ],
        },
      },
    });
    const vpc = await h.ec2.send(new CreateVpcCommand({ CidrBlock: '10.1.0.0/16' }));
    vpcId = vpc.Vpc?.VpcId as string;
    const subnet = await h.ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.1.1.0/24', AvailabilityZone: 'us-east-1b' }),
    );
    subnetId = subnet.Subnet?.SubnetId as string;
  });
  afterAll(async () => {
    await h.sandbox.stop();
  });

  test('subnets are described by vpc-id', async () => {
    const subnets = await h.ec2.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
    );
    expect(subnets.Subnets).toMatchObject([
      { SubnetId: subnetId, AvailabilityZone: 'us-east-1b', CidrBlock: '10.1.1.0/24' },
    ]);
  });

  test('tags: TagSpecifications on create, CreateTags, DeleteTags (value must match)', async () => {
    const run = await h.ec2.send(
      new RunInstancesCommand({
        SubnetId: subnetId,
        InstanceType: 'm6i.large',
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'app', Value: 'billing' }] }],
      }),
    );
    const instanceId = run.Instances?.[0]?.InstanceId as string;
    await h.ec2.send(
      new CreateTagsCommand({ Resources: [instanceId, vpcId], Tags: [{ Key: 'owner', Value: 'ops' }] }),
    );
    await h.ec2.send(
      new DeleteTagsCommand({
        Resources: [instanceId],
        Tags: [{ Key: 'owner', Value: 'not-ops' }, { Key: 'app' }],
      }),
    );
    const described = await h.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    expect(described.Reservations?.[0]?.Instances?.[0]?.Tags).toEqual([{ Key: 'owner', Value: 'ops' }]);
    const vpcs = await h.ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: 'tag:owner', Values: ['ops'] }] }),
    );
    expect(vpcs.Vpcs?.map((v) => v.VpcId)).toEqual([vpcId]);
  });

  test('instances: reservations, state transitions on the clock, filters', async () => {
    const run = await h.ec2.send(
      new RunInstancesCommand({ SubnetId: subnetId, InstanceType: 't3.micro', MinCount: 2, MaxCount: 2 }),
    );
    expect(run.Instances).toHaveLength(2);
    expect(run.Instances?.[0]?.State?.Name).toBe('pending');
    const ids = run.Instances?.map((i) => i.InstanceId as string) ?? [];
    h.sandbox.clock.advance(MINUTE);
    const running = await h.ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'instance-state-name', Values: ['running'] },
          { Name: 'instance-type', Values: ['t3.micro'] },
        ],
      }),
    );
    expect(running.Reservations).toHaveLength(1);
    expect(running.Reservations?.[0]?.ReservationId).toBe(run.ReservationId);
    const stop = await h.ec2.send(new StopInstancesCommand({ InstanceIds: [ids[0] as string] }));
    expect(stop.StoppingInstances?.[0]).toMatchObject({
      PreviousState: { Name: 'running' },
      CurrentState: { Name: 'stopping', Code: 64 },
    });
    const terminate = await h.ec2.send(new TerminateInstancesCommand({ InstanceIds: [ids[1] as string] }));
    expect(terminate.TerminatingInstances?.[0]?.CurrentState?.Name).toBe('shutting-down');
    h.sandbox.clock.advance(MINUTE);
    const states = await h.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
    expect(states.Reservations?.[0]?.Instances?.map((i) => i.State?.Name)).toEqual(['stopped', 'terminated']);
    await expect(
      h.ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0000000000000dead'] })),
    ).rejects.toMatchObject({
      name: 'InvalidInstanceID.NotFound',
    });
  });

  test('unknown instance types are refused at launch', async () => {
    await expect(
      h.ec2.send(
        new RunInstancesCommand({
          SubnetId: subnetId,
          InstanceType: 'z9.huge' as 't3.micro',
          MinCount: 1,
          MaxCount: 1,
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });

  test('DescribeInstanceTypes: capability agrees with the documented families', async () => {
    const types = await h.ec2.send(
      new DescribeInstanceTypesCommand({
        InstanceTypes: [
          'm5.large',
          'c5.large',
          'r5.large',
          't3.micro',
          't4g.micro',
          'm6i.large',
          'c6i.large',
          'r6i.large',
          'm7g.large',
          'm7i.large',
          'm4.large',
          't2.micro',
        ],
      }),
    );
    const byType = Object.fromEntries(
      (types.InstanceTypes ?? []).map((t) => [
        t.InstanceType,
        [t.Hypervisor, t.NetworkInfo?.EncryptionInTransitSupported],
      ]),
    );
    expect(byType).toEqual({
      'm5.large': ['nitro', false],
      'c5.large': ['nitro', false],
      'r5.large': ['nitro', false],
      't3.micro': ['nitro', false],
      't4g.micro': ['nitro', false],
      'm6i.large': ['nitro', true],
      'c6i.large': ['nitro', true],
      'r6i.large': ['nitro', true],
      'm7g.large': ['nitro', true],
      'm7i.large': ['nitro', true],
      'm4.large': ['xen', false],
      't2.micro': ['xen', false],
    });
    const capable = await h.ec2.send(
      new DescribeInstanceTypesCommand({
        Filters: [
          { Name: 'network-info.encryption-in-transit-supported', Values: ['true'] },
          { Name: 'instance-type', Values: ['m*.large'] },
        ],
      }),
    );
    expect(
      capable.InstanceTypes?.every(
        (t) => t.NetworkInfo?.EncryptionInTransitSupported && t.InstanceType?.startsWith('m'),
      ),
    ).toBe(true);
    const m7g = (types.InstanceTypes ?? []).find((t) => t.InstanceType === 'm7g.large');
    expect(m7g).toMatchObject({
      VCpuInfo: { DefaultVCpus: 2 },
      MemoryInfo: { SizeInMiB: 8192 },
      ProcessorInfo: { SupportedArchitectures: ['arm64'] },
    });
  });

  test('network interfaces include requester-managed ones with their InterfaceType', async () => {
    const svc = h.sandbox.ec2.scenarioIds['111111111111/us-east-1/svc'] as string;
    const enis = await h.ec2.send(
      new DescribeNetworkInterfacesCommand({
        Filters: [
          { Name: 'vpc-id', Values: [svc] },
          { Name: 'requester-managed', Values: ['true'] },
        ],
      }),
    );
    expect(enis.NetworkInterfaces?.map((e) => e.InterfaceType).sort()).toEqual([
      'lambda',
      'network_load_balancer',
    ]);
  });

  test('internet gateways: create, attach, describe by attachment.vpc-id, detach; DeleteVpc waits for dependencies', async () => {
    const igw = await h.ec2.send(new CreateInternetGatewayCommand({}));
    const igwId = igw.InternetGateway?.InternetGatewayId as string;
    await h.ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igwId, VpcId: vpcId }));
    const described = await h.ec2.send(
      new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [vpcId] }] }),
    );
    expect(described.InternetGateways?.map((g) => g.InternetGatewayId)).toEqual([igwId]);
    await expect(h.ec2.send(new DeleteVpcCommand({ VpcId: vpcId }))).rejects.toMatchObject({
      name: 'DependencyViolation',
    });
    await h.ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: igwId, VpcId: vpcId }));
    const after = await h.ec2.send(new DescribeInternetGatewaysCommand({ InternetGatewayIds: [igwId] }));
    expect(after.InternetGateways?.[0]?.Attachments).toEqual([]);
  });

  test('egress-only, NAT and VPN gateways', async () => {
    const eigw = await h.ec2.send(new CreateEgressOnlyInternetGatewayCommand({ VpcId: vpcId }));
    expect(eigw.EgressOnlyInternetGateway?.Attachments).toEqual([{ State: 'attached', VpcId: vpcId }]);
    expect(
      (await h.ec2.send(new DescribeEgressOnlyInternetGatewaysCommand({}))).EgressOnlyInternetGateways,
    ).toHaveLength(1);

    const nat = await h.ec2.send(new CreateNatGatewayCommand({ SubnetId: subnetId }));
    expect(nat.NatGateway?.State).toBe('pending');
    h.sandbox.clock.advance(2 * MINUTE);
    const nats = await h.ec2.send(
      new DescribeNatGatewaysCommand({ Filter: [{ Name: 'vpc-id', Values: [vpcId] }] }),
    );
    expect(nats.NatGateways?.[0]?.State).toBe('available');

    const vgw = await h.ec2.send(new CreateVpnGatewayCommand({ Type: 'ipsec.1' }));
    const vgwId = vgw.VpnGateway?.VpnGatewayId as string;
    await h.ec2.send(new AttachVpnGatewayCommand({ VpcId: vpcId, VpnGatewayId: vgwId }));
    h.sandbox.clock.advance(MINUTE);
    const vgws = await h.ec2.send(new DescribeVpnGatewaysCommand({ VpnGatewayIds: [vgwId] }));
    expect(vgws.VpnGateways?.[0]?.VpcAttachments).toEqual([{ VpcId: vpcId, State: 'attached' }]);
  });

  test('VPC peering: create (pending-acceptance), accept from the peer account, describe from both sides', async () => {
    h.sandbox.registerCredentials('AKIDPEER000000000044', '444444444444');
    const peerClient = h.client('AKIDPEER000000000044');
    const peerVpc = await peerClient.send(new CreateVpcCommand({ CidrBlock: '10.44.0.0/16' }));
    const peerVpcId = peerVpc.Vpc?.VpcId as string;
    const created = await h.ec2.send(
      new CreateVpcPeeringConnectionCommand({
        VpcId: vpcId,
        PeerVpcId: peerVpcId,
        PeerOwnerId: '444444444444',
      }),
    );
    expect(created.VpcPeeringConnection?.Status?.Code).toBe('pending-acceptance');
    const pcx = created.VpcPeeringConnection?.VpcPeeringConnectionId as string;
    await expect(
      h.ec2.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx })),
    ).rejects.toMatchObject({
      name: 'OperationNotPermitted',
    });
    const accepted = await peerClient.send(
      new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }),
    );
    expect(accepted.VpcPeeringConnection?.Status?.Code).toBe('active');
    const fromRequester = await h.ec2.send(
      new DescribeVpcPeeringConnectionsCommand({
        Filters: [{ Name: 'requester-vpc-info.vpc-id', Values: [vpcId] }],
      }),
    );
    expect(fromRequester.VpcPeeringConnections?.[0]?.AccepterVpcInfo).toMatchObject({
      VpcId: peerVpcId,
      OwnerId: '444444444444',
    });
  });

  test('transit gateways: encryption support only after creation, enabling → enabled, preconditions refused', async () => {
    const created = await h.ec2.send(new CreateTransitGatewayCommand({ Description: 'core' }));
    const tgwId = created.TransitGateway?.TransitGatewayId as string;
    expect(created.TransitGateway?.State).toBe('pending');
    await expect(
      h.ec2.send(
        new ModifyTransitGatewayCommand({
          TransitGatewayId: tgwId,
          Options: { EncryptionSupport: 'enable' },
        }),
      ),
    ).rejects.toMatchObject({ name: 'IncorrectState' });
    h.sandbox.clock.advance(2 * MINUTE);
    await h.ec2.send(
      new CreateTransitGatewayVpcAttachmentCommand({
        TransitGatewayId: tgwId,
        VpcId: vpcId,
        SubnetIds: [subnetId],
      }),
    );
    const modified = await h.ec2.send(
      new ModifyTransitGatewayCommand({ TransitGatewayId: tgwId, Options: { EncryptionSupport: 'enable' } }),
    );
    expect(modified.TransitGateway?.Options?.EncryptionSupport?.EncryptionState).toBe('enabling');
    h.sandbox.clock.advance(2 * 60 * MINUTE);
    const described = await h.ec2.send(new DescribeTransitGatewaysCommand({ TransitGatewayIds: [tgwId] }));
    expect(described.TransitGateways?.[0]?.Options?.EncryptionSupport?.EncryptionState).toBe('enabled');
    const attachments = await h.ec2.send(
      new DescribeTransitGatewayAttachmentsCommand({
        Filters: [{ Name: 'transit-gateway-id', Values: [tgwId] }],
      }),
    );
    expect(attachments.TransitGatewayAttachments?.map((a) => [a.ResourceType, a.State])).toEqual([
      ['vpc', 'available'],
    ]);

    const hub = h.sandbox.ec2.scenarioIds['111111111111/us-east-1/tgw/hub'];
    await expect(
      h.ec2.send(
        new ModifyTransitGatewayCommand({ TransitGatewayId: hub, Options: { EncryptionSupport: 'enable' } }),
      ),
    ).rejects.toMatchObject({ name: 'IncorrectState', message: expect.stringContaining('connect') });
  });

  test('flow logs: a custom LogFormat with the encryption-status field round-trips; unknown fields are refused', async () => {
    /** Flow-log formats are `${field}` placeholders, written literally. */
    const fields = (...names: string[]) => names.map((n) => `$\{${n}}`).join(' ');
    const format = fields('version', 'interface-id', 'srcaddr', 'dstaddr', 'encryption-status');
    const created = await h.ec2.send(
      new CreateFlowLogsCommand({
        ResourceIds: [vpcId, 'vpc-0000000000000beef'],
        ResourceType: 'VPC',
        TrafficType: 'ALL',
        LogDestinationType: 's3',
        LogDestination: 'arn:aws:s3:::flow-logs',
        LogFormat: format,
      }),
    );
    expect(created.FlowLogIds).toHaveLength(1);
    expect(created.Unsuccessful?.map((u) => u.ResourceId)).toEqual(['vpc-0000000000000beef']);
    const described = await h.ec2.send(
      new DescribeFlowLogsCommand({ Filter: [{ Name: 'resource-id', Values: [vpcId] }] }),
    );
    expect(described.FlowLogs?.[0]).toMatchObject({
      LogFormat: format,
      LogDestinationType: 's3',
      TrafficType: 'ALL',
    });
    await expect(
      h.ec2.send(
        new CreateFlowLogsCommand({
          ResourceIds: [vpcId],
          ResourceType: 'VPC',
          LogDestinationType: 's3',
          LogDestination: 'arn:aws:s3:::flow-logs',
          LogFormat: fields('version', 'no-such-field'),
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameter' });
  });
});
