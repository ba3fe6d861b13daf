/**
 * The EC2 emulator's in-memory state for every account and Region, plus the scheduler that moves
 * asynchronous resources along (a control going enforce-in-progress → available, an instance stopping).
 *
 * Time comes from the sandbox clock. Nothing runs in the background: `settle(now)` fires every step that
 * is due, in due order, before each request is served, so a test that advances the clock by an hour sees
 * exactly the states an hour of AWS would have produced. Chained steps are scheduled from the due time of
 * the step that created them, not from "now", so a large jump replays the whole chain.
 */
import { createHash } from 'node:crypto';
import { AccountRegionStore } from '../account-region-store.ts';
import {
  type AccountControlRecord,
  type EgressOnlyInternetGatewayRecord,
  EXCLUSION_NAMES,
  type ExclusionName,
  type ExclusionState,
  emptyContents,
  type FlowLogRecord,
  type InstanceRecord,
  type InternetGatewayRecord,
  type NatGatewayRecord,
  type NetworkInterfaceRecord,
  type PeeringRecord,
  type SubnetRecord,
  type TgwAttachmentRecord,
  type TransitGatewayRecord,
  type VpcContents,
  type VpcRecord,
  type VpnGatewayRecord,
} from './model.ts';

/** How long asynchronous things take, in sandbox milliseconds. */
export interface Ec2Durations {
  /** CreateVpcEncryptionControl: `creating`. */
  readonly controlCreateMs: number;
  /** `monitor-in-progress` (after creating, or enforce → monitor). */
  readonly monitorMs: number;
  /** `enforce-in-progress`. */
  readonly enforceMs: number;
  /** An exclusion `enabling` / `disabling`. */
  readonly exclusionMs: number;
  readonly controlDeleteMs: number;
  /** How long a deleted control stays visible as `deleted`. */
  readonly deletedRetentionMs: number;
  readonly instancePendingMs: number;
  readonly instanceStopMs: number;
  readonly instanceTerminateMs: number;
  readonly natGatewayMs: number;
  readonly vpnGatewayMs: number;
  readonly transitGatewayMs: number;
  /** TGW encryption support `enabling` (AWS: up to 14 days). */
  readonly tgwEncryptionMs: number;
  readonly tgwAttachmentMs: number;
  /** Account-level control `transitions-in-progress`. */
  readonly accountControlMs: number;
}

export const DEFAULT_DURATIONS: Ec2Durations = {
  controlCreateMs: 30_000,
  monitorMs: 5 * 60_000,
  enforceMs: 10 * 60_000,
  exclusionMs: 2 * 60_000,
  controlDeleteMs: 60_000,
  deletedRetentionMs: 60 * 60_000,
  instancePendingMs: 15_000,
  instanceStopMs: 30_000,
  instanceTerminateMs: 30_000,
  natGatewayMs: 60_000,
  vpnGatewayMs: 30_000,
  transitGatewayMs: 60_000,
  tgwEncryptionMs: 60 * 60_000,
  tgwAttachmentMs: 60_000,
  accountControlMs: 5 * 60_000,
};

/** One account in one Region. */
export class RegionState {
  readonly accountId: string;
  readonly region: string;
  readonly vpcs = new Map<string, VpcRecord>();
  readonly subnets = new Map<string, SubnetRecord>();
  readonly instances = new Map<string, InstanceRecord>();
  readonly networkInterfaces = new Map<string, NetworkInterfaceRecord>();
  readonly internetGateways = new Map<string, InternetGatewayRecord>();
  readonly egressOnlyInternetGateways = new Map<string, EgressOnlyInternetGatewayRecord>();
  readonly natGateways = new Map<string, NatGatewayRecord>();
  readonly vpnGateways = new Map<string, VpnGatewayRecord>();
  readonly transitGateways = new Map<string, TransitGatewayRecord>();
  readonly tgwAttachments = new Map<string, TgwAttachmentRecord>();
  readonly flowLogs = new Map<string, FlowLogRecord>();
  /** Encryption control id → VPC id (live and recently deleted controls). */
  readonly controls = new Map<string, string>();
  /** VPC id → what it contains. */
  readonly contents = new Map<string, VpcContents>();
  readonly account: AccountControlRecord;

  constructor(accountId: string, region: string, now: number) {
    this.accountId = accountId;
    this.region = region;
    this.account = {
      mode: 'unmanaged',
      state: 'default-state',
      managedBy: 'account',
      exclusions: Object.fromEntries(EXCLUSION_NAMES.map((n) => [n, 'disabled'])) as Record<
        ExclusionName,
        ExclusionState
      >,
      lastUpdate: now,
      generation: 0,
    };
  }

  contentsOf(vpcId: string): VpcContents {
    let contents = this.contents.get(vpcId);
    if (contents === undefined) {
      contents = emptyContents();
      this.contents.set(vpcId, contents);
    }
    return contents;
  }
}

interface ScheduledStep {
  readonly at: number;
  readonly seq: number;
  readonly fire: (at: number) => void;
}

export class Ec2Store {
  readonly durations: Ec2Durations;
  private readonly regions = new AccountRegionStore<RegionState>(
    (accountId, region) => new RegionState(accountId, region, this.now()),
  );
  /** VPC id → owning Region state, across accounts (peering crosses accounts and Regions). */
  private readonly vpcHomes = new Map<string, RegionState>();
  /** Peerings are visible from both sides, so they live outside any one Region state. */
  readonly peerings = new Map<string, PeeringRecord>();
  private steps: ScheduledStep[] = [];
  private stepSeq = 0;
  private readonly idCounters = new Map<string, number>();
  private readonly idSeed: string;
  private readonly now: () => number;

  constructor(now: () => number, durations: Partial<Ec2Durations> = {}, idSeed = 'vecguard-sandbox') {
    this.now = now;
    this.durations = { ...DEFAULT_DURATIONS, ...durations };
    this.idSeed = idSeed;
  }

  region(accountId: string, region: string): RegionState {
    return this.regions.of(accountId, region);
  }

  allRegions(): IterableIterator<RegionState> {
    return this.regions.values();
  }

  /** A new id with EC2's shape (`vpc-` + 17 hex). Deterministic: the n-th id of a prefix is always the same. */
  newId(prefix: string): string {
    const n = (this.idCounters.get(prefix) ?? 0) + 1;
    this.idCounters.set(prefix, n);
    return `${prefix}-${hex17(`${this.idSeed}|${prefix}|${n}`)}`;
  }

  /** An id derived from a name (scenarios): stable whatever order the scenario lists things in. */
  namedId(prefix: string, ...name: string[]): string {
    return `${prefix}-${hex17(`${this.idSeed}|${prefix}|name|${name.join('|')}`)}`;
  }

  addVpc(state: RegionState, vpc: VpcRecord): void {
    state.vpcs.set(vpc.id, vpc);
    state.contentsOf(vpc.id);
    this.vpcHomes.set(vpc.id, state);
  }

  removeVpc(state: RegionState, vpcId: string): void {
    state.vpcs.delete(vpcId);
    state.contents.delete(vpcId);
    this.vpcHomes.delete(vpcId);
  }

  /** The Region state that owns a VPC, whatever the account. */
  homeOf(vpcId: string): RegionState | undefined {
    return this.vpcHomes.get(vpcId);
  }

  /** Runs `fire` when sandbox time reaches `at`. */
  schedule(at: number, fire: (at: number) => void): void {
    const step: ScheduledStep = { at, seq: ++this.stepSeq, fire };
    let lo = 0;
    let hi = this.steps.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const other = this.steps[mid] as ScheduledStep;
      if (other.at < at || (other.at === at && other.seq < step.seq)) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    this.steps.splice(lo, 0, step);
  }

  /** Fires every step due by `now`, oldest first (steps a step schedules fire too if due). */
  settle(now: number = this.now()): void {
    while (this.steps.length > 0 && (this.steps[0] as ScheduledStep).at <= now) {
      const step = this.steps.shift() as ScheduledStep;
      step.fire(step.at);
    }
  }

  get pendingSteps(): number {
    return this.steps.length;
  }

  currentTime(): number {
    return this.now();
  }
}

function hex17(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 17);
}
