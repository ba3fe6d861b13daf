/**
 * What an EC2 action handler works with, and the small helpers every handler shares (lookups that answer
 * EC2's NotFound codes, tags in and out).
 */
import type { Tag, TagSpecification } from '@aws-sdk/client-ec2';
import type { EncryptionControls } from './encryption.ts';
import { Ec2Error, invalidParameter } from './errors.ts';
import type { Tags, VpcRecord } from './model.ts';
import type { Resources } from './resources.ts';
import type { Ec2Store, RegionState } from './store.ts';

export interface ActionContext {
  readonly store: Ec2Store;
  readonly controls: EncryptionControls;
  readonly resources: Resources;
  /** The caller's account in the addressed Region. */
  readonly state: RegionState;
  readonly accountId: string;
  readonly region: string;
  readonly now: number;
  readonly dryRun: boolean;
  /**
   * Mutating handlers call this once they have validated the request and before the first change: on a
   * dry run it answers `DryRunOperation` ("would have succeeded"), otherwise it returns.
   */
  commit(): void;
}

export interface ActionDefinition {
  readonly mutating: boolean;
  // biome-ignore lint/suspicious/noExplicitAny: each handler declares its SDK input type; the table is heterogeneous
  run(ctx: ActionContext, input: any): object;
}

/** Declares a handler with its SDK request and result types. */
export function action<I, O extends object>(
  mutating: boolean,
  run: (ctx: ActionContext, input: I) => O,
): ActionDefinition {
  return { mutating, run };
}

export function findVpc(ctx: ActionContext, vpcId: string | undefined): VpcRecord {
  if (vpcId === undefined || vpcId === '') {
    throw new Ec2Error('MissingParameter', 'The request must contain the parameter VpcId');
  }
  const vpc = ctx.state.vpcs.get(vpcId);
  if (vpc === undefined) {
    throw new Ec2Error('InvalidVpcID.NotFound', `The vpc ID '${vpcId}' does not exist`);
  }
  return vpc;
}

/** `map.get(id)` or the EC2 NotFound error with `code`. */
export function findIn<T>(
  map: ReadonlyMap<string, T>,
  id: string | undefined,
  code: string,
  what: string,
): T {
  if (id === undefined || id === '') {
    throw new Ec2Error('MissingParameter', `The request must contain the parameter ${what}`);
  }
  const found = map.get(id);
  if (found === undefined) {
    throw new Ec2Error(code, `The ${what} '${id}' does not exist`);
  }
  return found;
}

/** Tags from `TagSpecifications` for one resource type (specs for other types are refused, as EC2 does). */
export function tagsFromSpecifications(
  specs: readonly TagSpecification[] | undefined,
  resourceType: string,
): Tags {
  const tags: Tags = new Map();
  for (const spec of specs ?? []) {
    if (spec.ResourceType !== undefined && spec.ResourceType !== resourceType) {
      throw invalidParameter(
        `'${spec.ResourceType}' is not a valid taggable resource type for this operation.`,
      );
    }
    for (const tag of spec.Tags ?? []) {
      if (tag.Key === undefined || tag.Key === '') {
        throw invalidParameter('Tag keys must not be empty');
      }
      tags.set(tag.Key, tag.Value ?? '');
    }
  }
  return tags;
}

export function tagList(tags: Tags): Tag[] | undefined {
  if (tags.size === 0) {
    return undefined;
  }
  const list: Tag[] = [];
  for (const [Key, Value] of tags) {
    list.push({ Key, Value });
  }
  return list;
}

export function tagsFromPlain(tags: Readonly<Record<string, string>> | undefined): Tags {
  return new Map(Object.entries(tags ?? {}));
}

export function iso(ms: number): Date {
  return new Date(ms);
}

/** A private IPv4 address inside a CIDR block, from a per-VPC counter. Good enough for display. */
export function privateIp(cidrBlock: string, n: number): string {
  const [base] = cidrBlock.split('/');
  const octets = (base ?? '10.0.0.0').split('.').map(Number);
  const value = (((octets[0] ?? 10) << 24) | ((octets[1] ?? 0) << 16) | ((octets[2] ?? 0) << 8)) + 4 + n;
  return [(value >>> 24) & 255, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}
