import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chooseCapableType,
  type InstanceChoice,
  parseInstanceType,
  requiredArchitectures,
} from '../../functions/domain/instance-choice.ts';
import type { InstanceTypeInfo } from '../../functions/domain/model.ts';

const GiB = 1024;

function type(
  instanceType: string,
  vcpus: number,
  memoryGiB: number,
  capable: boolean,
  over: Partial<InstanceTypeInfo> = {},
): InstanceTypeInfo {
  return {
    instanceType,
    vcpus,
    memoryMiB: Math.round(memoryGiB * GiB),
    architectures: ['x86_64'],
    hypervisor: 'nitro',
    currentGeneration: true,
    encryptionInTransitSupported: capable,
    ...over,
  };
}

const xen: Partial<InstanceTypeInfo> = { hypervisor: 'xen', currentGeneration: false };
const arm: Partial<InstanceTypeInfo> = { architectures: ['arm64'] };

/** A small slice of DescribeInstanceTypes as AWS returns it (sizes and capability as published). */
const CATALOGUE: readonly InstanceTypeInfo[] = [
  // Xen, previous generation, not capable.
  type('t2.micro', 1, 1, false, { ...xen, currentGeneration: true, architectures: ['i386', 'x86_64'] }),
  type('t2.large', 2, 8, false, { ...xen, currentGeneration: true, architectures: ['i386', 'x86_64'] }),
  type('m4.large', 2, 8, false, xen),
  type('m4.xlarge', 4, 16, false, xen),
  type('c4.large', 2, 3.75, false, xen),
  type('r4.large', 2, 15.25, false, xen),
  // Nitro and still not capable.
  type('t3.micro', 2, 1, false),
  type('t3.large', 2, 8, false),
  type('t4g.large', 2, 8, false, arm),
  type('m5.large', 2, 8, false),
  type('m5.xlarge', 4, 16, false),
  type('m5d.large', 2, 8, false),
  type('c5.large', 2, 4, false),
  type('c5.xlarge', 4, 8, false),
  type('r5.large', 2, 16, false),
  type('m6g.large', 2, 8, false, arm),
  type('c6g.large', 2, 4, false, arm),
  type('a1.large', 2, 4, false, arm),
  type('x1e.xlarge', 4, 122, false, xen),
  // Capable.
  type('m5n.large', 2, 8, true),
  type('m6a.large', 2, 8, true),
  type('m6i.large', 2, 8, true),
  type('m6i.xlarge', 4, 16, true),
  type('m6i.2xlarge', 8, 32, true),
  type('m6id.large', 2, 8, true),
  type('m7i.large', 2, 8, true),
  type('m7i-flex.large', 2, 8, true),
  type('c6i.large', 2, 4, true),
  type('c6i.xlarge', 4, 8, true),
  type('c6in.large', 2, 4, true),
  type('r6i.large', 2, 16, true),
  type('r6i.xlarge', 4, 32, true),
  type('m7g.medium', 1, 4, true, arm),
  type('m7g.large', 2, 8, true, arm),
  type('c7g.large', 2, 4, true, arm),
  type('r7g.large', 2, 16, true, arm),
  // A capable type AWS lists as previous generation.
  type('c5n.large', 2, 5.25, true, { currentGeneration: false }),
];

function replacementOf(choice: InstanceChoice): string {
  if (choice.kind !== 'replacement') throw new Error(`expected a replacement, got ${JSON.stringify(choice)}`);
  return choice.instanceType;
}

describe('parseInstanceType', () => {
  it.each([
    ['m6i.large', { family: 'm', generation: 6, attributes: 'i', size: 'large' }],
    ['m4.xlarge', { family: 'm', generation: 4, attributes: '', size: 'xlarge' }],
    ['x2iedn.32xlarge', { family: 'x', generation: 2, attributes: 'iedn', size: '32xlarge' }],
    ['m7i-flex.large', { family: 'm', generation: 7, attributes: 'i-flex', size: 'large' }],
    ['inf2.xlarge', { family: 'inf', generation: 2, attributes: '', size: 'xlarge' }],
    ['u-6tb1.metal', { family: 'u-6tb1', generation: 0, attributes: '', size: 'metal' }],
    ['nodot', { family: 'nodot', generation: 0, attributes: '', size: '' }],
  ])('%s', (name, expected) => {
    expect(parseInstanceType(name)).toEqual(expected);
  });
});

describe('chooseCapableType against a realistic catalogue', () => {
  it.each([
    ['m4.large', 'm6i.large'],
    ['m4.xlarge', 'm6i.xlarge'],
    ['m5.large', 'm6i.large'],
    ['m5.xlarge', 'm6i.xlarge'],
    ['c5.large', 'c6i.large'],
    ['c5.xlarge', 'c6i.xlarge'],
    ['c4.large', 'c6i.large'],
    ['r5.large', 'r6i.large'],
    ['r4.large', 'r6i.large'],
    // Burstable types have no capable line: the nearest general-purpose type.
    ['t2.micro', 'm6i.large'],
    ['t2.large', 'm6i.large'],
    ['t3.micro', 'm6i.large'],
    ['t3.large', 'm6i.large'],
    // Arm stays on Arm.
    ['m6g.large', 'm7g.large'],
    ['c6g.large', 'c7g.large'],
    ['t4g.large', 'm7g.large'],
    ['a1.large', 'm7g.large'],
  ])('%s moves to %s', (source, expected) => {
    expect(replacementOf(chooseCapableType(source, CATALOGUE))).toBe(expected);
  });

  it('keeps local NVMe storage: m5d moves to m6id, not m6i', () => {
    expect(replacementOf(chooseCapableType('m5d.large', CATALOGUE))).toBe('m6id.large');
  });

  it('keeps the processor vendor: an Intel m4 does not move to AMD m6a although m6a sorts first', () => {
    const onlyVendors = CATALOGUE.filter((t) =>
      ['m4.large', 'm6a.large', 'm7i.large'].includes(t.instanceType),
    );
    expect(replacementOf(chooseCapableType('m4.large', onlyVendors))).toBe('m7i.large');
  });

  it('prefers a current-generation type over a previous-generation one of the same fit', () => {
    const catalogue = [
      type('m5.large', 2, 8, false),
      type('m6i.large', 2, 8, true, { currentGeneration: false }),
      type('m7i.large', 2, 8, true),
    ];
    expect(replacementOf(chooseCapableType('m5.large', catalogue))).toBe('m7i.large');
  });

  it('takes a previous-generation capable type when it is the only fit, and says so', () => {
    const catalogue = [
      type('c5.large', 2, 4, false),
      type('c5n.large', 2, 5.25, true, { currentGeneration: false }),
    ];
    const choice = chooseCapableType('c5.large', catalogue);
    expect(replacementOf(choice)).toBe('c5n.large');
    expect(choice.reason).toContain('previous-generation');
  });

  it('prefers the smallest vCPU excess, then the smallest memory excess', () => {
    const catalogue = [
      type('m5.large', 2, 8, false),
      type('m6i.xlarge', 4, 16, true),
      type('m6i.large', 2, 8, true),
      type('m6i.2xlarge', 8, 32, true),
    ];
    expect(replacementOf(chooseCapableType('m5.large', catalogue))).toBe('m6i.large');
    const memory = [
      type('m5.large', 2, 8, false),
      type('m6i.big', 2, 64, true),
      type('m6i.snug', 2, 12, true),
    ];
    expect(replacementOf(chooseCapableType('m5.large', memory))).toBe('m6i.snug');
  });

  it('never picks a smaller type, even within the family line', () => {
    expect(replacementOf(chooseCapableType('m4.xlarge', CATALOGUE))).not.toBe('m6i.large');
    const tooSmall = [
      type('c5.xlarge', 4, 8, false),
      type('c6i.large', 2, 4, true),
      type('r6i.xlarge', 4, 32, true),
    ];
    // No capable c type is large enough, so it leaves the family line rather than shrink.
    const choice = chooseCapableType('c5.xlarge', tooSmall);
    expect(replacementOf(choice)).toBe('r6i.xlarge');
    expect(choice.reason).toContain('another line');
  });

  it('breaks a full tie by name, whatever the catalogue order', () => {
    const twins = [type('m6i.large', 2, 8, true), type('m7i.large', 2, 8, true)];
    const source = type('m5.large', 2, 8, false);
    expect(replacementOf(chooseCapableType('m5.large', [source, ...twins]))).toBe('m6i.large');
    expect(replacementOf(chooseCapableType('m5.large', [...twins].reverse().concat(source)))).toBe(
      'm6i.large',
    );
  });

  it('flags Xen sources: the AMI needs ENA and NVMe drivers before the move', () => {
    const choice = chooseCapableType('m4.large', CATALOGUE);
    expect(choice).toMatchObject({ kind: 'replacement', driverCheckRequired: true });
    expect(choice.reason).toMatch(/Xen.*ENA and NVMe/);
    expect(chooseCapableType('m5.large', CATALOGUE)).toMatchObject({ driverCheckRequired: false });
  });

  it('explains the choice in one sentence naming both types', () => {
    const { reason } = chooseCapableType('t3.large', CATALOGUE);
    expect(reason).toContain('m6i.large');
    expect(reason).toContain('t3.large');
    expect(reason).toContain('general-purpose');
    expect(reason.trim().split(/\.\s/)).toHaveLength(1);
  });

  it('a capable source is already capable', () => {
    expect(chooseCapableType('m6i.large', CATALOGUE).kind).toBe('already-capable');
    expect(chooseCapableType('m7g.large', CATALOGUE).kind).toBe('already-capable');
  });

  it('an unknown source type has no answer, with a reason', () => {
    const choice = chooseCapableType('zz9.large', CATALOGUE);
    expect(choice.kind).toBe('none');
    expect(choice.reason).toContain('not in the instance type catalogue');
  });

  it('no capable type large enough: none, with a reason naming the size', () => {
    const choice = chooseCapableType('x1e.xlarge', CATALOGUE);
    expect(choice.kind).toBe('none');
    expect(choice.reason).toContain('4 vCPU and 122 GiB');
  });

  it('no capable type of the architecture: none', () => {
    const noArm = CATALOGUE.filter(
      (t) => !(t.architectures.includes('arm64') && t.encryptionInTransitSupported),
    );
    expect(chooseCapableType('m6g.large', noArm).kind).toBe('none');
  });

  it('required architectures drop i386 next to x86_64 but keep a lone one', () => {
    expect(requiredArchitectures({ architectures: ['i386', 'x86_64'] })).toEqual(['x86_64']);
    expect(requiredArchitectures({ architectures: ['i386'] })).toEqual(['i386']);
  });
});

// --- properties ---------------------------------------------------------------------------------------

const familyArb = fc.constantFrom('m', 'm', 'm', 't', 'c', 'r', 'x', 'i', 'g', 'zz');
const attributesArb = fc.constantFrom('', 'i', 'a', 'g', 'd', 'id', 'n', 'in', 'gn', 'i-flex');
const sizeArb = fc.constantFrom('medium', 'large', 'xlarge', '2xlarge', '4xlarge', 'metal');
const infoArb: fc.Arbitrary<InstanceTypeInfo> = fc.record({
  instanceType: fc
    .tuple(familyArb, fc.integer({ min: 1, max: 8 }), attributesArb, sizeArb)
    .map(([f, g, a, s]) => `${f}${g}${a}.${s}`),
  // Few sizes, so that ties (decided by name alone) are common.
  vcpus: fc.constantFrom(1, 2, 2, 4, 8),
  memoryMiB: fc.constantFrom(1024, 4096, 8192, 8192, 16384),
  architectures: fc.constantFrom(['x86_64'], ['arm64'], ['i386', 'x86_64']),
  hypervisor: fc.constantFrom('nitro', 'xen'),
  currentGeneration: fc.boolean(),
  encryptionInTransitSupported: fc.boolean(),
});
const catalogueArb = fc.uniqueArray(infoArb, {
  minLength: 1,
  maxLength: 30,
  selector: (t) => t.instanceType,
});
const caseArb = catalogueArb.chain((catalogue) =>
  fc.record({
    catalogue: fc.constant(catalogue),
    source: fc.constantFrom(...catalogue),
    shuffled: fc.shuffledSubarray(catalogue, { minLength: catalogue.length, maxLength: catalogue.length }),
  }),
);

function fitsSource(source: InstanceTypeInfo, c: InstanceTypeInfo): boolean {
  return (
    c.encryptionInTransitSupported &&
    requiredArchitectures(source).every((a) => c.architectures.includes(a)) &&
    c.vcpus >= source.vcpus &&
    c.memoryMiB >= source.memoryMiB
  );
}

describe('chooseCapableType properties', () => {
  it('a replacement is always capable, of the same architecture, and at least as large', () => {
    fc.assert(
      fc.property(caseArb, ({ catalogue, source }) => {
        const choice = chooseCapableType(source.instanceType, catalogue);
        if (source.encryptionInTransitSupported) {
          expect(choice.kind).toBe('already-capable');
          return;
        }
        if (choice.kind === 'none') {
          // None only when nothing in the catalogue fits.
          expect(catalogue.filter((c) => fitsSource(source, c))).toEqual([]);
          return;
        }
        expect(choice.kind).toBe('replacement');
        if (choice.kind !== 'replacement') return;
        const chosen = catalogue.find((c) => c.instanceType === choice.instanceType);
        expect(chosen).toBeDefined();
        if (!chosen) return;
        expect(chosen.encryptionInTransitSupported).toBe(true);
        for (const a of requiredArchitectures(source)) expect(chosen.architectures).toContain(a);
        expect(chosen.vcpus).toBeGreaterThanOrEqual(source.vcpus);
        expect(chosen.memoryMiB).toBeGreaterThanOrEqual(source.memoryMiB);
        expect(choice.driverCheckRequired).toBe(source.hypervisor === 'xen');
      }),
      { numRuns: 500 },
    );
  });

  it('stays in the family line whenever a capable type of that line fits', () => {
    fc.assert(
      fc.property(caseArb, ({ catalogue, source }) => {
        const family = parseInstanceType(source.instanceType).family;
        const sameLine = catalogue.filter(
          (c) => parseInstanceType(c.instanceType).family === family && fitsSource(source, c),
        );
        fc.pre(!source.encryptionInTransitSupported && sameLine.length > 0);
        const choice = chooseCapableType(source.instanceType, catalogue);
        expect(parseInstanceType(replacementOf(choice)).family).toBe(family);
      }),
      { numRuns: 300 },
    );
  });

  it('the choice does not depend on the order of the catalogue', () => {
    fc.assert(
      fc.property(caseArb, ({ catalogue, source, shuffled }) => {
        expect(chooseCapableType(source.instanceType, shuffled)).toEqual(
          chooseCapableType(source.instanceType, catalogue),
        );
        expect(chooseCapableType(source.instanceType, [...catalogue].reverse())).toEqual(
          chooseCapableType(source.instanceType, catalogue),
        );
      }),
      { numRuns: 500 },
    );
  });
});
