import {
  DescribeInstancesCommand,
  DescribeVpcEncryptionControlsCommand,
  DescribeVpcsCommand,
} from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { OrganizationsEmulator } from '../src/organizations/emulator.ts';
import { generateEstate } from '../src/scenarios/generate.ts';
import { BUILT_IN_SCENARIOS, loadScenarioFile, parseScenarioFile } from '../src/scenarios/index.ts';
import { applyDriftEvent, eventsOfPhase, replayCloudTrail } from '../src/scenarios/replay.ts';
import { type Ec2Harness, startEc2Harness } from './ec2-harness.ts';

let h: Ec2Harness | undefined;
afterEach(async () => {
  await h?.sandbox.stop();
  h = undefined;
});

describe('scenario files', () => {
  it.each(BUILT_IN_SCENARIOS)('the built-in scenario "%s" loads into the sandbox', async (name) => {
    const scenario = loadScenarioFile(name);
    h = await startEc2Harness({ ec2: { scenario: scenario.estate } });
    const first = scenario.estate.accounts[0];
    const client = h.client(`AKIDSANDBOX${first?.id}`, first?.regions[0]?.name);
    const { Vpcs } = await client.send(new DescribeVpcsCommand({ MaxResults: 1000 }));
    expect(Vpcs?.length).toBe(first?.regions[0]?.vpcs.length);
  });

  it('the large scenario is generated deterministically, with the shares it asks for', () => {
    const params = {
      seed: 7,
      accounts: 3,
      regions: ['us-east-1'],
      vpcsPerRegion: 400,
      blockedShare: 0.3,
      monitoredShare: 0.5,
      internetGatewayShare: 0.2,
    };
    const a = generateEstate(params);
    expect(generateEstate(params)).toEqual(a);
    const vpcs = a.flatMap((acct) => acct.regions?.flatMap((r) => r.vpcs ?? []) ?? []);
    expect(vpcs).toHaveLength(1200);
    const blocked = vpcs.filter((v) => v.instances?.some((i) => i.type === 'c5.large')).length / vpcs.length;
    expect(blocked).toBeGreaterThan(0.25);
    expect(blocked).toBeLessThan(0.35);
    expect(generateEstate({ ...params, seed: 8 })).not.toEqual(a);
  });

  it('the large scenario’s organisation holds every generated account below its workloads OU', () => {
    const scenario = loadScenarioFile('large');
    const tree = new OrganizationsEmulator({ organization: scenario.organization }).tree();
    if (!tree) throw new Error('the large scenario has no organisation');
    expect(scenario.estate.accounts.length).toBeGreaterThan(0);
    for (const account of scenario.estate.accounts) {
      expect(chainOf(tree, account.id), account.id).toContain('ou-lrg1-workload');
    }
  });

  it('a broken scenario file names the file and the path of the problem', () => {
    expect(() => parseScenarioFile('accounts:\n  - id: "12"\n', 'mine.yaml')).toThrow(
      /^mine\.yaml: accounts\[0\]\.id: a 12-digit account id$/,
    );
    expect(() => parseScenarioFile('accounts: [', 'mine.yaml')).toThrow(/^mine\.yaml: not valid YAML/);
    expect(() => loadScenarioFile('no-such-scenario')).toThrow(
      /use one of default, large, drift, declarative-policy/,
    );
  });

  it('the recorded CreateVpc of the default scenario creates "fresh" and yields the CloudTrail event', async () => {
    const scenario = loadScenarioFile('default');
    h = await startEc2Harness({ ec2: { scenario: scenario.estate } });
    const [createVpc] = eventsOfPhase(scenario.events, 'before-sweep').cloudTrail;
    expect(createVpc).toBeDefined();
    const event = await replayCloudTrail(h.sandbox, createVpc as NonNullable<typeof createVpc>);
    const vpcId = (event.detail.responseElements.vpc as { vpcId: string }).vpcId;
    expect(event).toMatchObject({
      source: 'aws.ec2',
      'detail-type': 'AWS API Call via CloudTrail',
      account: '111111111111',
    });
    expect(event.detail).toMatchObject({ eventName: 'CreateVpc', eventSource: 'ec2.amazonaws.com' });
    const { Vpcs } = await h.ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }));
    expect(Vpcs?.[0]?.Tags).toContainEqual({ Key: 'Name', Value: 'fresh' });
    const { VpcEncryptionControls } = await h.ec2.send(
      new DescribeVpcEncryptionControlsCommand({ VpcIds: [vpcId] }),
    );
    expect(VpcEncryptionControls ?? []).toEqual([]);
  });

  it("drift events change the estate behind vecguard's back, by VPC name", async () => {
    const scenario = loadScenarioFile('drift');
    const harness = await startEc2Harness({ ec2: { scenario: scenario.estate } });
    h = harness;
    const { drift } = eventsOfPhase(scenario.events, 'after-sweep');
    expect(drift).toHaveLength(2);
    for (const event of drift)
      applyDriftEvent(h.sandbox, event, { account: '111111111111', region: 'us-east-1' });
    const orders = h.sandbox.ec2.scenarioIds['111111111111/us-east-1/orders'];
    const { VpcEncryptionControls } = await h.ec2.send(
      new DescribeVpcEncryptionControlsCommand({ VpcIds: [orders as string] }),
    );
    expect(VpcEncryptionControls?.[0]?.Mode).toBe('monitor');
    const billing = h.sandbox.ec2.scenarioIds['111111111111/us-east-1/billing'];
    const { Reservations } = await h.ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'vpc-id', Values: [billing as string] }] }),
    );
    expect(
      Reservations?.flatMap((r) => r.Instances ?? [])
        .map((i) => i.InstanceType)
        .sort(),
    ).toEqual(['c5.large', 'c6i.large']);
    expect(() =>
      applyDriftEvent(
        harness.sandbox,
        { kind: 'drift', phase: 'after-sweep', change: { kind: 'delete-control', vpc: 'nope' } },
        {
          account: '111111111111',
          region: 'us-east-1',
        },
      ),
    ).toThrow('drift event names VPC "nope", which is not in 111111111111/us-east-1');
  });
});

/** The parent ids above a node of the tree, nearest first. */
function chainOf(
  tree: {
    organizationalUnits: { id: string; parentId: string }[];
    accounts: { id: string; parentId: string }[];
  },
  id: string,
): string[] {
  const parentOf = new Map([...tree.organizationalUnits, ...tree.accounts].map((n) => [n.id, n.parentId]));
  const chain: string[] = [];
  for (let p = parentOf.get(id); p !== undefined; p = parentOf.get(p)) chain.push(p);
  return chain;
}
