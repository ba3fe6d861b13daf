import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  boundedId,
  digest,
  type Finding,
  FindingSchema,
  fitText,
  jsonByteLength,
  parseStoredFinding,
  partitionOf,
  productArn,
  TRUNCATION_MARKER,
  truncateText,
  utf8ByteLength,
} from '../../functions/domain/asff.ts';
import { findingForVerdict } from '../../functions/domain/findings.ts';
import { VpcVerdictSchema } from '../../functions/domain/verdict.ts';
import { ACCOUNT_ID, REGION, TAKEN_AT } from './fixtures.ts';

function sample(): Finding {
  return findingForVerdict(
    VpcVerdictSchema.parse({
      vpcId: 'vpc-1',
      name: 'one',
      accountId: ACCOUNT_ID,
      region: REGION,
      verdict: 'UNMONITORED',
      desiredMode: 'enforce',
      policySource: 'defaults',
      currentMode: null,
      controlState: null,
      reasons: [],
      blockers: [],
      exclusionsNeeded: [],
      exclusionsRefused: [],
      exclusionsEnabled: [],
    }),
    { takenAt: TAKEN_AT },
  );
}

function issuesOf(value: unknown): string[] {
  const result = FindingSchema.safeParse(value);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('FindingSchema', () => {
  it('accepts what vecguard builds', () => {
    expect(issuesOf(sample())).toEqual([]);
  });

  it('rejects Workflow, which belongs to the customer, and any other key vecguard never sends', () => {
    expect(issuesOf({ ...sample(), Workflow: { Status: 'NEW' } })).toEqual([
      expect.stringMatching(/Unrecognized key.*Workflow/),
    ]);
  });

  it('rejects each limit broken: 33 resources, none, a long title, a 13-digit account, a foreign ProductArn', () => {
    const f = sample();
    const resource = f.Resources[0];
    expect(issuesOf({ ...f, Resources: Array(33).fill(resource) })).toHaveLength(1);
    expect(issuesOf({ ...f, Resources: [] })).toHaveLength(1);
    expect(issuesOf({ ...f, Title: 'x'.repeat(257) })).toHaveLength(1);
    expect(issuesOf({ ...f, Description: 'x'.repeat(1025) })).toHaveLength(1);
    expect(issuesOf({ ...f, AwsAccountId: '1234567890123' })).toHaveLength(1);
    expect(
      issuesOf({ ...f, ProductArn: 'arn:aws:securityhub:eu-west-1::product/aws/guardduty' }),
    ).toHaveLength(1);
    expect(issuesOf({ ...f, Types: ['Made Up/Category'] })).toHaveLength(1);
    expect(issuesOf({ ...f, RecordState: 'DELETED' })).toHaveLength(1);
    const fields = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    expect(issuesOf({ ...f, ProductFields: fields })).toEqual([expect.stringMatching(/at most 50 entries/)]);
  });

  it('rejects a finding over 240,000 bytes of JSON', () => {
    const f = sample();
    const resource = { Type: 'Other', Id: 'x', Details: { Other: { blob: '\u0001'.repeat(1000) } } };
    const heavy = { ...f, Resources: Array(32).fill(resource) };
    expect(jsonByteLength(heavy)).toBeLessThan(240_000);
    expect(issuesOf(heavy)).toEqual([]);
    const tooHeavy = {
      ...f,
      Resources: Array(32).fill({
        ...resource,
        Details: { Other: { a: resource.Details.Other.blob, b: 'y'.repeat(1024), c: '\u0001'.repeat(1024) } },
      }),
    };
    expect(issuesOf(tooHeavy)).toEqual([expect.stringMatching(/Security Hub accepts at most 240000/)]);
  });
});

describe('parseStoredFinding', () => {
  it('drops what Security Hub adds so the finding can be sent back as a provider update', () => {
    const stored = {
      ...sample(),
      Workflow: { Status: 'NOTIFIED' },
      WorkflowState: 'NEW',
      ProductName: 'Default',
      CompanyName: 'Personal',
      ProcessedAt: TAKEN_AT,
      Severity: { Label: 'HIGH', Normalized: 70, Original: 'UNMONITORED' },
      ProductFields: {
        'vecguard/verdict': 'UNMONITORED',
        'aws/securityhub/FindingId': 'arn:aws:securityhub:…',
        'aws/securityhub/ProductName': 'Default',
      },
    };
    const finding = parseStoredFinding(stored);
    expect(issuesOf(finding)).toEqual([]);
    expect(finding).not.toHaveProperty('Workflow');
    expect(finding.Severity).toEqual({ Label: 'HIGH', Original: 'UNMONITORED' });
    expect(finding.ProductFields).toEqual({ 'vecguard/verdict': 'UNMONITORED' });
  });

  it('keeps a finding without ProductFields as it is and rejects what is not a finding', () => {
    const { ProductFields: _, ...bare } = sample();
    expect(parseStoredFinding(bare)).toEqual(bare);
    expect(() => parseStoredFinding('nope')).toThrow();
  });
});

/** No lone surrogate (String.prototype.isWellFormed is ES2024, past this project's lib). */
const isWellFormed = (s: string) => !/\p{Cs}/u.test(s);

describe('text and id tools', () => {
  it('truncateText cuts to the limit with a visible marker, and leaves short text alone', () => {
    expect(truncateText('short', 10)).toBe('short');
    const cut = truncateText('a'.repeat(300), 256);
    expect(cut).toHaveLength(256);
    expect(cut.endsWith(TRUNCATION_MARKER)).toBe(true);
    expect(truncateText('abcdef', 3)).toBe(TRUNCATION_MARKER.slice(0, 3));
  });

  it('never splits a surrogate pair, so the result is well-formed unicode (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 400 }),
        fc.integer({ min: 0, max: 300 }),
        (s, max) => {
          const cut = truncateText(s, max);
          expect(cut.length).toBeLessThanOrEqual(max);
          if (isWellFormed(s)) expect(isWellFormed(cut)).toBe(true);
        },
      ),
    );
    expect(truncateText(`${'a'.repeat(242)}${'😀'.repeat(10)}`, 256)).toBe(
      `${'a'.repeat(242)}${TRUNCATION_MARKER}`,
    );
  });

  it('fitText keeps the tail whole and cuts the body', () => {
    expect(fitText('body', ' tail', 20)).toBe('body tail');
    const fitted = fitText('b'.repeat(100), ' … and 3 more', 40);
    expect(fitted).toHaveLength(40);
    expect(fitted.endsWith(`${TRUNCATION_MARKER} … and 3 more`)).toBe(true);
    expect(fitText('body', 'x'.repeat(50), 20)).toHaveLength(20);
    expect(fitText('b'.repeat(30), '', 20)).toHaveLength(20);
  });

  it('utf8ByteLength counts like a UTF-8 encoder', () => {
    for (const s of ['', 'abc', 'é', '€', '😀', 'a\u0000b', '\ud800', '\udc00x']) {
      expect(utf8ByteLength(s), JSON.stringify(s)).toBe(Buffer.byteLength(s, 'utf8'));
    }
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(utf8ByteLength(s)).toBe(Buffer.byteLength(s, 'utf8'));
      }),
    );
  });

  it('boundedId keeps short ids, and bounds long ones with a digest that keeps them apart', () => {
    expect(boundedId('vpc-1', 10)).toBe('vpc-1');
    const a = boundedId(`${'x'.repeat(600)}a`, 512);
    const b = boundedId(`${'x'.repeat(600)}b`, 512);
    expect(a).toHaveLength(512);
    expect(a).not.toBe(b);
    expect(digest('')).toBe('cbf29ce484222325');
    expect(digest('a')).not.toBe(digest('b'));
    expect(isWellFormed(boundedId(`${'x'.repeat(494)}😀${'y'.repeat(100)}`, 512))).toBe(true);
  });

  it('productArn and partitionOf follow the Region', () => {
    expect(productArn(ACCOUNT_ID, 'us-east-1')).toBe(
      `arn:aws:securityhub:us-east-1:${ACCOUNT_ID}:product/${ACCOUNT_ID}/default`,
    );
    expect(partitionOf('cn-north-1')).toBe('aws-cn');
    expect(partitionOf('us-gov-west-1')).toBe('aws-us-gov');
    expect(partitionOf('eu-central-2')).toBe('aws');
  });
});
