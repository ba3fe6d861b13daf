/**
 * Which instance type replaces one that cannot encrypt in transit (docs/design.md §2: "capable" means
 * `NetworkInfo.EncryptionInTransitSupported`, and Nitro alone is not enough — t3, m5, c5, r5 are Nitro and
 * not capable). The answer is computed from the catalogue the inventory read with DescribeInstanceTypes,
 * never from a table of known answers, so new families are picked up the day AWS lists them.
 *
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/data-protection.html#encryption-transit
 * https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html
 */
import type { InstanceTypeInfo } from './model.ts';

export type InstanceChoice =
  | { readonly kind: 'already-capable'; readonly reason: string }
  | {
      readonly kind: 'replacement';
      readonly instanceType: string;
      readonly reason: string;
      /** The source runs on Xen: its AMI needs ENA and NVMe drivers before it can boot on Nitro. */
      readonly driverCheckRequired: boolean;
    }
  | { readonly kind: 'none'; readonly reason: string };

/** An instance type name taken apart: `m6idn.2xlarge` → family `m`, generation 6, attributes `idn`, size `2xlarge`. */
export interface InstanceTypeName {
  readonly family: string;
  readonly generation: number;
  readonly attributes: string;
  readonly size: string;
}

const NAME = /^([a-z]+)(\d+)([a-z0-9-]*)\.([a-z0-9-]+)$/;

/** Parse an instance type name; names outside the usual pattern (`u-6tb1.metal`) keep their prefix as family. */
export function parseInstanceType(instanceType: string): InstanceTypeName {
  const m = NAME.exec(instanceType);
  if (m) {
    return { family: m[1] ?? '', generation: Number(m[2]), attributes: m[3] ?? '', size: m[4] ?? '' };
  }
  const dot = instanceType.indexOf('.');
  return {
    family: dot < 0 ? instanceType : instanceType.slice(0, dot),
    generation: 0,
    attributes: '',
    size: dot < 0 ? '' : instanceType.slice(dot + 1),
  };
}

/**
 * Family letters → the broad use AWS groups them under. Burstable `t` has no capable line, so it falls back
 * to the nearest general-purpose one; a category is only a fallback behind the exact family line.
 */
const CATEGORY_OF_FAMILY: Readonly<Record<string, string>> = {
  m: 'general-purpose',
  t: 'general-purpose',
  a: 'general-purpose',
  mac: 'general-purpose',
  c: 'compute-optimized',
  r: 'memory-optimized',
  x: 'memory-optimized',
  z: 'memory-optimized',
  u: 'memory-optimized',
  i: 'storage-optimized',
  d: 'storage-optimized',
  h: 'storage-optimized',
  im: 'storage-optimized',
  is: 'storage-optimized',
  p: 'accelerated',
  g: 'accelerated',
  inf: 'accelerated',
  trn: 'accelerated',
  dl: 'accelerated',
  f: 'accelerated',
  vt: 'accelerated',
  hpc: 'hpc',
};

function categoryOf(family: string): string {
  return CATEGORY_OF_FAMILY[family] ?? `family:${family}`;
}

/** The first attribute letter names the processor (a: AMD, g: Graviton, i: Intel); none means Intel (or Graviton on Arm). */
function processorOf(attributes: string): string {
  const first = attributes[0];
  return first === 'a' || first === 'g' || first === 'i' ? first : 'i';
}

/** Feature attributes after the processor letter: d local NVMe, n network, e extra memory/storage, z frequency, b EBS, `-flex`. */
function featuresOf(attributes: string): Set<string> {
  const [letters = '', ...suffixes] = attributes.split('-');
  const rest = /^[agi]/.test(letters) ? letters.slice(1) : letters;
  return new Set([...rest, ...suffixes.filter((s) => s !== '').map((s) => `-${s}`)]);
}

/**
 * The architectures a replacement must run. 32-bit `i386` is listed on old x86 types next to `x86_64` but
 * no Nitro type offers it, and an AMI built for it is a case for a person, not for this choice.
 */
export function requiredArchitectures(info: Pick<InstanceTypeInfo, 'architectures'>): readonly string[] {
  const wide = info.architectures.filter((a) => a !== 'i386');
  return wide.length > 0 ? wide : info.architectures;
}

interface Ranked {
  readonly info: InstanceTypeInfo;
  /** Lexicographic; lower is better. */
  readonly key: readonly number[];
  readonly line: 'same family' | 'same category' | 'other';
}

function rank(source: InstanceTypeInfo, sourceName: InstanceTypeName, info: InstanceTypeInfo): Ranked {
  const name = parseInstanceType(info.instanceType);
  const line =
    name.family === sourceName.family
      ? 'same family'
      : categoryOf(name.family) === categoryOf(sourceName.family)
        ? 'same category'
        : 'other';
  const sourceFeatures = featuresOf(sourceName.attributes);
  const features = featuresOf(name.attributes);
  // Losing a feature (local disks, network bandwidth) is worse than changing processor vendor, which is
  // worse than paying for a feature the workload never had.
  const lostFeatures = [...sourceFeatures].filter((f) => !features.has(f)).length;
  const otherProcessor = processorOf(name.attributes) === processorOf(sourceName.attributes) ? 0 : 1;
  const addedFeatures = [...features].filter((f) => !sourceFeatures.has(f)).length;
  return {
    info,
    line,
    key: [
      line === 'same family' ? 0 : line === 'same category' ? 1 : 2,
      lostFeatures,
      otherProcessor,
      addedFeatures,
      info.currentGeneration ? 0 : 1,
      info.vcpus - source.vcpus,
      info.memoryMiB - source.memoryMiB,
    ],
  };
}

function compareRanked(a: Ranked, b: Ranked): number {
  for (let i = 0; i < a.key.length; i++) {
    const d = (a.key[i] ?? 0) - (b.key[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.info.instanceType < b.info.instanceType ? -1 : a.info.instanceType > b.info.instanceType ? 1 : 0;
}

function describeSize(info: InstanceTypeInfo): string {
  return `${info.vcpus} vCPU and ${formatMiB(info.memoryMiB)} memory`;
}

function formatMiB(mib: number): string {
  return mib % 1024 === 0 ? `${mib / 1024} GiB` : `${mib} MiB`;
}

/** Can this type, on its own, host an instance that fits the source? */
function fits(source: InstanceTypeInfo, candidate: InstanceTypeInfo): boolean {
  return (
    candidate.encryptionInTransitSupported &&
    requiredArchitectures(source).every((a) => candidate.architectures.includes(a)) &&
    candidate.vcpus >= source.vcpus &&
    candidate.memoryMiB >= source.memoryMiB
  );
}

/**
 * Choose the capable type an instance of `sourceType` should move to: a capable type of the same
 * architecture with at least the source's vCPU and memory; the same family line first (m4 → m6i), then
 * the same category (t3 → an `m` type, as burstable types have no capable line), keeping the source's
 * features and processor vendor, current generation first, the smallest (vCPU, memory) excess, and the name
 * as the last, stable tie-break. The result does not depend on the catalogue's order.
 */
export function chooseCapableType(
  sourceType: string,
  catalogue: readonly InstanceTypeInfo[],
): InstanceChoice {
  const source = catalogue.find((t) => t.instanceType === sourceType);
  if (source === undefined) {
    return {
      kind: 'none',
      reason: `${sourceType} is not in the instance type catalogue, so neither its capability nor a replacement can be judged.`,
    };
  }
  if (source.encryptionInTransitSupported) {
    return { kind: 'already-capable', reason: `${sourceType} already supports encryption in transit.` };
  }

  const sourceName = parseInstanceType(sourceType);
  const arch = requiredArchitectures(source).join('/');
  const best = catalogue
    .filter((c) => c.instanceType !== sourceType && fits(source, c))
    .map((c) => rank(source, sourceName, c))
    .sort(compareRanked)[0];
  if (best === undefined) {
    return {
      kind: 'none',
      reason: `No ${arch} type in the catalogue supports encryption in transit with at least the ${describeSize(source)} of ${sourceType}.`,
    };
  }

  const driverCheckRequired = source.hypervisor === 'xen';
  const where =
    best.line === 'same family'
      ? `the ${sourceName.family} family line`
      : best.line === 'same category'
        ? `the nearest ${categoryOf(sourceName.family)} line, as ${sourceName.family} has no capable type`
        : 'another line, as no capable type of the same kind fits';
  const generation = best.info.currentGeneration ? 'current-generation' : 'previous-generation';
  const drivers = driverCheckRequired
    ? `; ${sourceType} runs on Xen, so its AMI needs ENA and NVMe drivers before the move`
    : '';
  return {
    kind: 'replacement',
    instanceType: best.info.instanceType,
    driverCheckRequired,
    reason:
      `${best.info.instanceType} is the closest ${generation} ${arch} type in ${where} that supports ` +
      `encryption in transit with at least the ${describeSize(source)} of ${sourceType}${drivers}.`,
  };
}
