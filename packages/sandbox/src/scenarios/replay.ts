/**
 * Replaying a scenario's events against a running sandbox: recorded CloudTrail calls are made for real
 * (with the account's own credentials, through the real EC2 client) and come back as the EventBridge events
 * AWS would deliver; drift changes go through the sandbox's drift API with names resolved to ids.
 */
import { createHash } from 'node:crypto';
import { CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import { type DriftChange, DriftChangeSchema } from '../ec2/drift.ts';
import type { SandboxHandle } from '../server.ts';
import type { CloudTrailScenarioEvent, DriftScenarioEvent, ScenarioEvent } from './index.ts';

/** The EventBridge envelope of "AWS API Call via CloudTrail". */
export interface CloudTrailEventBridgeEvent {
  version: '0';
  id: string;
  'detail-type': 'AWS API Call via CloudTrail';
  source: 'aws.ec2';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: {
    eventVersion: string;
    userIdentity: { type: string; arn: string; accountId: string };
    eventTime: string;
    eventSource: 'ec2.amazonaws.com';
    eventName: string;
    awsRegion: string;
    requestParameters: Record<string, unknown>;
    responseElements: Record<string, unknown>;
    eventID: string;
    eventType: 'AwsApiCall';
    recipientAccountId: string;
  };
}

function deterministicUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Make the recorded call against the sandbox and return the event CloudTrail would deliver for it. */
export async function replayCloudTrail(
  sandbox: SandboxHandle,
  event: CloudTrailScenarioEvent,
): Promise<CloudTrailEventBridgeEvent> {
  const accessKeyId = `AKIDSANDBOX${event.account}`;
  const ec2 = new EC2Client({
    endpoint: sandbox.url,
    region: event.region,
    credentials: { accessKeyId, secretAccessKey: 'sandbox' },
  });
  const tags = { Name: event.vpc.name, ...event.vpc.tags };
  const created = await ec2.send(
    new CreateVpcCommand({
      CidrBlock: event.vpc.cidr,
      TagSpecifications: [
        { ResourceType: 'vpc', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
      ],
    }),
  );
  ec2.destroy();
  const vpcId = created.Vpc?.VpcId ?? '';
  const time = new Date(sandbox.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const id = deterministicUuid(`${event.account}/${event.region}/${vpcId}`);
  return {
    version: '0',
    id,
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.ec2',
    account: event.account,
    time,
    region: event.region,
    resources: [],
    detail: {
      eventVersion: '1.09',
      userIdentity: { type: 'IAMUser', arn: event.userIdentityArn, accountId: event.account },
      eventTime: time,
      eventSource: 'ec2.amazonaws.com',
      eventName: event.eventName,
      awsRegion: event.region,
      requestParameters: { cidrBlock: event.vpc.cidr },
      responseElements: {
        vpc: { vpcId, cidrBlock: event.vpc.cidr, state: created.Vpc?.State ?? 'available' },
      },
      eventID: id,
      eventType: 'AwsApiCall',
      recipientAccountId: event.account,
    },
  };
}

/** Apply a drift event, resolving `vpc` (a scenario name) to the VPC's id. */
export function applyDriftEvent(
  sandbox: SandboxHandle,
  event: DriftScenarioEvent,
  defaults: { account: string; region: string },
): string {
  const { vpc, account, region, ...change } = event.change;
  const accountId = account ?? defaults.account;
  const regionName = region ?? defaults.region;
  const resolved: Record<string, unknown> = { ...change, accountId, region: regionName };
  if (vpc !== undefined) {
    const vpcId = sandbox.ec2.scenarioIds[`${accountId}/${regionName}/${vpc}`];
    if (!vpcId) throw new Error(`drift event names VPC "${vpc}", which is not in ${accountId}/${regionName}`);
    resolved.vpcId = vpcId;
  }
  const parsed: DriftChange = DriftChangeSchema.parse(resolved);
  return sandbox.ec2.drift(parsed);
}

export function eventsOfPhase(events: readonly ScenarioEvent[], phase: 'before-sweep' | 'after-sweep') {
  return {
    cloudTrail: events.filter(
      (e): e is CloudTrailScenarioEvent => e.kind === 'cloudtrail' && phase === 'before-sweep',
    ),
    drift: events.filter((e): e is DriftScenarioEvent => e.kind === 'drift' && e.phase === phase),
  };
}
