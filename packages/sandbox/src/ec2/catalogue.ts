/**
 * The instance types DescribeInstanceTypes knows, and whether each encrypts traffic in transit.
 *
 * Capability (`NetworkInfo.EncryptionInTransitSupported`) follows the families the EC2 User Guide lists
 * under "Encryption in transit" (Data protection in Amazon EC2): e.g. m5n/m5zn/c5n/r5n and the 6th
 * generation and later Intel/AMD families (m6i, c6i, r6i, m6a, …), the Graviton3+ families (m7g, c7g, r7g,
 * m8g…) and c6gn. Being Nitro is not enough: m5, c5, r5, t3, t3a, t4g, m6g, c6g, r6g are Nitro and NOT capable.
 * Xen families (m4, c4, r4, t2, m3, i3) never are. Sizes and memory are indicative (the product only reads
 * vCPU, memory, architecture, hypervisor, generation and the capability flag).
 */

export interface InstanceTypeSpec {
  readonly instanceType: string;
  readonly family: string;
  readonly vcpus: number;
  readonly memoryMiB: number;
  readonly architectures: readonly ('x86_64' | 'arm64' | 'i386')[];
  readonly hypervisor: 'nitro' | 'xen';
  readonly currentGeneration: boolean;
  readonly encryptionInTransitSupported: boolean;
  readonly burstable: boolean;
  readonly networkPerformance: string;
}

interface FamilySpec {
  readonly hypervisor: 'nitro' | 'xen';
  readonly arch: 'x86_64' | 'arm64';
  /** GiB of memory per vCPU. */
  readonly gibPerVcpu: number;
  readonly capable: boolean;
  readonly currentGeneration?: boolean;
  readonly sizes?: readonly string[];
}

const STANDARD_SIZES = ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge'] as const;
const VCPUS_BY_SIZE: Record<string, number> = {
  nano: 2,
  micro: 2,
  small: 2,
  medium: 2,
  large: 2,
  xlarge: 4,
  '2xlarge': 8,
  '4xlarge': 16,
  '8xlarge': 32,
};
/** Burstable (t*) types do not follow a fixed memory ratio. */
const BURSTABLE_MEMORY_GIB: Record<string, number> = {
  nano: 0.5,
  micro: 1,
  small: 2,
  medium: 4,
  large: 8,
  xlarge: 16,
  '2xlarge': 32,
};
const BURSTABLE_SIZES = ['nano', 'micro', 'small', 'medium', 'large', 'xlarge', '2xlarge'] as const;

const nitro = (arch: 'x86_64' | 'arm64', gibPerVcpu: number, capable: boolean): FamilySpec => ({
  hypervisor: 'nitro',
  arch,
  gibPerVcpu,
  capable,
});

const FAMILIES: Record<string, FamilySpec> = {
  // Nitro, encryption in transit supported.
  m5n: nitro('x86_64', 4, true),
  m5zn: nitro('x86_64', 4, true),
  c5n: nitro('x86_64', 2.625, true),
  c5a: nitro('x86_64', 2, true),
  r5n: nitro('x86_64', 8, true),
  m6i: nitro('x86_64', 4, true),
  m6a: nitro('x86_64', 4, true),
  m6id: nitro('x86_64', 4, true),
  m6in: nitro('x86_64', 4, true),
  c6i: nitro('x86_64', 2, true),
  c6a: nitro('x86_64', 2, true),
  c6in: nitro('x86_64', 2, true),
  c6gn: nitro('arm64', 2, true),
  r6i: nitro('x86_64', 8, true),
  r6a: nitro('x86_64', 8, true),
  m7i: nitro('x86_64', 4, true),
  'm7i-flex': nitro('x86_64', 4, true),
  m7a: nitro('x86_64', 4, true),
  m7g: nitro('arm64', 4, true),
  c7i: nitro('x86_64', 2, true),
  c7a: nitro('x86_64', 2, true),
  c7g: nitro('arm64', 2, true),
  r7i: nitro('x86_64', 8, true),
  r7a: nitro('x86_64', 8, true),
  r7g: nitro('arm64', 8, true),
  m8g: nitro('arm64', 4, true),
  c8g: nitro('arm64', 2, true),
  r8g: nitro('arm64', 8, true),
  i4i: nitro('x86_64', 8, true),
  // Nitro, NOT capable.
  m5: nitro('x86_64', 4, false),
  m5a: nitro('x86_64', 4, false),
  m5d: nitro('x86_64', 4, false),
  c5: nitro('x86_64', 2, false),
  c5d: nitro('x86_64', 2, false),
  r5: nitro('x86_64', 8, false),
  r5a: nitro('x86_64', 8, false),
  r5d: nitro('x86_64', 8, false),
  m6g: nitro('arm64', 4, false),
  c6g: nitro('arm64', 2, false),
  r6g: nitro('arm64', 8, false),
  a1: { ...nitro('arm64', 2, false), sizes: ['medium', 'large', 'xlarge', '2xlarge', '4xlarge'] },
  t3: { ...nitro('x86_64', 0, false), sizes: BURSTABLE_SIZES },
  t3a: { ...nitro('x86_64', 0, false), sizes: BURSTABLE_SIZES },
  t4g: { ...nitro('arm64', 0, false), sizes: BURSTABLE_SIZES },
  // Xen.
  t2: { hypervisor: 'xen', arch: 'x86_64', gibPerVcpu: 0, capable: false, sizes: BURSTABLE_SIZES },
  m4: { hypervisor: 'xen', arch: 'x86_64', gibPerVcpu: 4, capable: false },
  c4: { hypervisor: 'xen', arch: 'x86_64', gibPerVcpu: 1.875, capable: false },
  r4: { hypervisor: 'xen', arch: 'x86_64', gibPerVcpu: 7.625, capable: false },
  i3: { hypervisor: 'xen', arch: 'x86_64', gibPerVcpu: 7.625, capable: false },
  m3: {
    hypervisor: 'xen',
    arch: 'x86_64',
    gibPerVcpu: 3.75,
    capable: false,
    currentGeneration: false,
    sizes: ['medium', 'large', 'xlarge', '2xlarge'],
  },
};

function buildCatalogue(): Map<string, InstanceTypeSpec> {
  const catalogue = new Map<string, InstanceTypeSpec>();
  for (const [family, spec] of Object.entries(FAMILIES)) {
    const burstable = family.startsWith('t');
    for (const size of spec.sizes ?? STANDARD_SIZES) {
      const vcpus =
        family === 't2' && ['nano', 'micro', 'small'].includes(size) ? 1 : (VCPUS_BY_SIZE[size] ?? 2);
      const memoryGib = burstable ? (BURSTABLE_MEMORY_GIB[size] ?? 1) : vcpus * spec.gibPerVcpu;
      const instanceType = `${family}.${size}`;
      catalogue.set(instanceType, {
        instanceType,
        family,
        vcpus,
        memoryMiB: Math.round(memoryGib * 1024),
        architectures: spec.arch === 'x86_64' && spec.hypervisor === 'xen' ? ['i386', 'x86_64'] : [spec.arch],
        hypervisor: spec.hypervisor,
        currentGeneration: spec.currentGeneration ?? true,
        encryptionInTransitSupported: spec.capable,
        burstable,
        networkPerformance: vcpus >= 16 ? 'Up to 25 Gigabit' : 'Up to 12.5 Gigabit',
      });
    }
  }
  return catalogue;
}

export const INSTANCE_TYPES: ReadonlyMap<string, InstanceTypeSpec> = buildCatalogue();

export function instanceTypeSpec(instanceType: string): InstanceTypeSpec | undefined {
  return INSTANCE_TYPES.get(instanceType);
}

/** Unknown types are treated as not capable: a security tool must not assume encryption. */
export function isEncryptionCapable(instanceType: string): boolean {
  return INSTANCE_TYPES.get(instanceType)?.encryptionInTransitSupported ?? false;
}
