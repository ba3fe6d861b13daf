import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../functions/domain/errors.ts';
import {
  carriesEncryptionStatus,
  DEFAULT_FLOW_LOG_FORMAT,
  ENCRYPTION_STATUSES,
  encryptionStatusOf,
  type FlowLogRecord,
  flowLogFormat,
  flowLogRecordParser,
  parseFlowLogFormat,
  parseFlowLogRecord,
  RECOMMENDED_FLOW_LOG_FORMAT,
  summariseEncryption,
} from '../../functions/domain/flow-logs.ts';

const FORMAT = flowLogFormat([
  'vpc-id',
  'srcaddr',
  'dstaddr',
  'dstport',
  'bytes',
  'action',
  'log-status',
  'encryption-status',
]);

describe('carriesEncryptionStatus', () => {
  it(`is true only for a custom format with \${encryption-status}`, () => {
    expect(carriesEncryptionStatus(RECOMMENDED_FLOW_LOG_FORMAT)).toBe(true);
    expect(carriesEncryptionStatus(`\${srcaddr} \${encryption-status}`)).toBe(true);
    expect(carriesEncryptionStatus(undefined)).toBe(false);
    expect(carriesEncryptionStatus('')).toBe(false);
    expect(carriesEncryptionStatus(DEFAULT_FLOW_LOG_FORMAT)).toBe(false);
    expect(carriesEncryptionStatus(`\${encryption-status-x} \${srcaddr}`)).toBe(false);
  });
});

describe('the recommended format', () => {
  it('carries the fields needed to find clear-text flows', () => {
    const fields = parseFlowLogFormat(RECOMMENDED_FLOW_LOG_FORMAT);
    for (const f of [
      'vpc-id',
      'interface-id',
      'srcaddr',
      'dstaddr',
      'srcport',
      'dstport',
      'protocol',
      'action',
      'flow-direction',
      'traffic-path',
      'encryption-status',
    ]) {
      expect(fields).toContain(f);
    }
  });

  it('the default format is the 14 version-2 fields', () => {
    expect(parseFlowLogFormat(DEFAULT_FLOW_LOG_FORMAT)).toHaveLength(14);
    expect(DEFAULT_FLOW_LOG_FORMAT.startsWith(`\${version} \${account-id} \${interface-id}`)).toBe(true);
  });
});

describe('parseFlowLogFormat', () => {
  it('reads field names in order, tolerating extra whitespace and fields it does not know', () => {
    expect(parseFlowLogFormat(`  \${srcaddr}\t\${dstaddr}  \${some-new-field} `)).toEqual([
      'srcaddr',
      'dstaddr',
      'some-new-field',
    ]);
  });

  it.each([
    ['', /at least one/],
    ['   ', /at least one/],
    [`\${srcaddr} dstaddr`, /token 2 "dstaddr" is not a field/],
    [`\${srcaddr}\${dstaddr}`, /token 1/],
    [`\${srcaddr} \${srcaddr}`, /\$\{srcaddr\} appears twice/],
  ])('refuses %j', (format, message) => {
    expect(() => parseFlowLogFormat(format)).toThrow(InvalidInputError);
    expect(() => parseFlowLogFormat(format)).toThrow(message);
  });
});

describe('parseFlowLogRecord', () => {
  it.each([
    ['0', 'clear'],
    ['1', 'nitro'],
    ['2', 'application'],
    ['3', 'both'],
    ['-', 'unknown'],
  ] as const)('maps encryption-status %s to %s', (value, status) => {
    const record = parseFlowLogRecord(FORMAT, `vpc-1 10.0.0.1 10.0.0.2 443 1200 ACCEPT OK ${value}`);
    expect(record.encryptionStatus).toBe(status);
    expect(record.fields['encryption-status']).toBe(value);
  });

  it('keeps every field by name', () => {
    const record = parseFlowLogRecord(FORMAT, 'vpc-1 10.0.0.1 10.0.0.2 443 1200 ACCEPT OK 0');
    expect(record.fields).toEqual({
      'vpc-id': 'vpc-1',
      srcaddr: '10.0.0.1',
      dstaddr: '10.0.0.2',
      dstport: '443',
      bytes: '1200',
      action: 'ACCEPT',
      'log-status': 'OK',
      'encryption-status': '0',
    });
  });

  it('a value AWS adds later is unknown, with the raw value kept', () => {
    const record = parseFlowLogRecord(FORMAT, 'vpc-1 a b 1 2 ACCEPT OK 7');
    expect(record.encryptionStatus).toBe('unknown');
    expect(record.fields['encryption-status']).toBe('7');
    expect(encryptionStatusOf('7')).toBe('unknown');
    expect(encryptionStatusOf('toString')).toBe('unknown');
    expect(encryptionStatusOf('__proto__')).toBe('unknown');
  });

  it('a format without the field gives no encryption status', () => {
    expect(
      parseFlowLogRecord(`\${srcaddr} \${dstaddr}`, '10.0.0.1 10.0.0.2').encryptionStatus,
    ).toBeUndefined();
  });

  it.each([
    ['too few fields', 'vpc-1 10.0.0.1 10.0.0.2 443 1200 ACCEPT OK', /7 field\(s\), the format has 8/],
    [
      'too many fields',
      'vpc-1 10.0.0.1 10.0.0.2 443 1200 ACCEPT OK 0 extra',
      /9 field\(s\), the format has 8/,
    ],
    ['an empty line', '', /0 field\(s\)/],
    ['a very long line, shown shortened', `x ${'y'.repeat(500)}`, /"x y{198}…"/],
  ])('refuses %s with a clear InvalidInputError', (_, line, message) => {
    expect(() => parseFlowLogRecord(FORMAT, line)).toThrow(InvalidInputError);
    expect(() => parseFlowLogRecord(FORMAT, line)).toThrow(message);
  });

  it('reads any line built from the format back to the same fields (property)', () => {
    const arbValue = fc.stringMatching(/^[!-~]{1,20}$/);
    fc.assert(
      fc.property(
        fc.array(arbValue, { minLength: 8, maxLength: 8 }),
        fc.constantFrom(' ', '  ', '\t'),
        (values, sep) => {
          const parse = flowLogRecordParser(FORMAT);
          const record = parse(values.join(sep));
          expect(Object.values(record.fields)).toEqual(values);
          expect(ENCRYPTION_STATUSES).toContain(record.encryptionStatus);
        },
      ),
    );
  });
});

describe('summariseEncryption', () => {
  const parse = flowLogRecordParser(FORMAT);
  const line = (status: string, bytes = '100', logStatus = 'OK') =>
    parse(`vpc-1 10.0.0.1 10.0.0.2 443 ${bytes} ACCEPT ${logStatus} ${status}`);

  it('counts flows per status and the share of clear-text flows and bytes', () => {
    const summary = summariseEncryption([
      line('0', '300'),
      line('0', '100'),
      line('1', '400'),
      line('2', '100'),
      line('3', '100'),
      line('-', '-'),
      line('-', '-', 'NODATA'),
      line('1', '-', 'SKIPDATA'),
    ]);
    expect(summary).toEqual({
      flows: 6,
      byStatus: { clear: 2, nitro: 1, application: 1, both: 1, unknown: 1 },
      skipped: 2,
      clearShare: 2 / 6,
      clearByteShare: 400 / 1000,
    });
  });

  it('skips records whose format has no encryption-status, and is all zero without flows', () => {
    const plain = parseFlowLogRecord(`\${srcaddr}`, '10.0.0.1');
    expect(summariseEncryption([plain])).toEqual({
      flows: 0,
      byStatus: { clear: 0, nitro: 0, application: 0, both: 0, unknown: 0 },
      skipped: 1,
      clearShare: 0,
      clearByteShare: 0,
    });
  });

  it('counts records from a format without log-status or bytes', () => {
    const records: FlowLogRecord[] = ['0', '1'].map((s) => parseFlowLogRecord(`\${encryption-status}`, s));
    expect(summariseEncryption(records)).toMatchObject({ flows: 2, clearShare: 0.5, clearByteShare: 0 });
  });

  it('shares stay between 0 and 1 and counts add up (property)', () => {
    const arbRecord = fc
      .record({
        status: fc.constantFrom('0', '1', '2', '3', '-', '9'),
        bytes: fc.oneof(fc.constant('-'), fc.nat({ max: 1_000_000 }).map(String)),
        logStatus: fc.constantFrom('OK', 'OK', 'NODATA', 'SKIPDATA'),
      })
      .map(({ status, bytes, logStatus }) => line(status, bytes, logStatus));
    fc.assert(
      fc.property(fc.array(arbRecord, { maxLength: 50 }), (records) => {
        const s = summariseEncryption(records);
        expect(s.flows + s.skipped).toBe(records.length);
        expect(Object.values(s.byStatus).reduce((a, b) => a + b, 0)).toBe(s.flows);
        for (const share of [s.clearShare, s.clearByteShare]) {
          expect(share).toBeGreaterThanOrEqual(0);
          expect(share).toBeLessThanOrEqual(1);
        }
      }),
    );
  });
});
