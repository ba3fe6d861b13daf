/**
 * VPC flow logs as evidence of encryption in transit: does a flow log carry `${encryption-status}`, the
 * format vecguard creates, and the parsing and summary of records (docs/design.md §2).
 *
 * `encryption-status`: 0 clear text, 1 Nitro hardware encryption, 2 application encryption (TLS to AWS
 * endpoints), 3 both, `-` unknown. Flow log formats are immutable, so only a new custom-format flow log can
 * carry the field. https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html
 */
import { InvalidInputError } from './errors.ts';

/** A format string from field names: `['srcaddr', 'dstaddr']` → `${srcaddr} ${dstaddr}`. */
export function flowLogFormat(fields: readonly string[]): string {
  return fields.map((field) => `\${${field}}`).join(' ');
}

/** The default format (version 2 fields): it does not carry encryption-status. */
export const DEFAULT_FLOW_LOG_FORMAT = flowLogFormat([
  'version',
  'account-id',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
]);

/**
 * What vecguard creates: enough to tell which VPC, interface and flow is in clear text, which way it goes
 * and by which path, plus the encryption status itself.
 */
export const RECOMMENDED_FLOW_LOG_FORMAT = flowLogFormat([
  'version',
  'account-id',
  'vpc-id',
  'subnet-id',
  'instance-id',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
  'flow-direction',
  'traffic-path',
  'pkt-src-aws-service',
  'pkt-dst-aws-service',
  'encryption-status',
]);

export const ENCRYPTION_STATUSES = ['clear', 'nitro', 'application', 'both', 'unknown'] as const;
export type EncryptionStatus = (typeof ENCRYPTION_STATUSES)[number];

// A Map, not an object literal: a record value such as `toString` must not find Object.prototype.
const ENCRYPTION_STATUS_BY_VALUE: ReadonlyMap<string, EncryptionStatus> = new Map([
  ['0', 'clear'],
  ['1', 'nitro'],
  ['2', 'application'],
  ['3', 'both'],
  ['-', 'unknown'],
]);

/**
 * The status a record's `encryption-status` value stands for. A value AWS may add later is `unknown`
 * (the raw value stays in the record's fields), rather than a guess.
 */
export function encryptionStatusOf(value: string): EncryptionStatus {
  return ENCRYPTION_STATUS_BY_VALUE.get(value) ?? 'unknown';
}

/** Does a flow log with this format carry `${encryption-status}`? Absent format = default = no. */
export function carriesEncryptionStatus(logFormat?: string): boolean {
  return logFormat !== undefined && /\$\{encryption-status\}/.test(logFormat);
}

const FIELD_TOKEN = /^\$\{([a-z0-9-]+)\}$/;

/** The field names of a format string, in order. Throws InvalidInputError for anything that is not `${name}`. */
export function parseFlowLogFormat(format: string): string[] {
  const tokens = format.trim().split(/\s+/).filter(Boolean);
  if (tokens.length === 0) throw new InvalidInputError(`a flow log format needs at least one \${field}`);
  const fields = tokens.map((token, i) => {
    const name = FIELD_TOKEN.exec(token)?.[1];
    if (name === undefined) {
      throw new InvalidInputError(
        `flow log format: token ${i + 1} ${JSON.stringify(token)} is not a field like \${srcaddr}`,
      );
    }
    return name;
  });
  const duplicate = fields.find((f, i) => fields.indexOf(f) !== i);
  if (duplicate !== undefined) throw new InvalidInputError(`flow log format: \${${duplicate}} appears twice`);
  return fields;
}

export interface FlowLogRecord {
  /** Every field of the format, by name, as written (`-` where AWS has no value). */
  readonly fields: Readonly<Record<string, string>>;
  /** From `encryption-status`; undefined when the format does not carry it. */
  readonly encryptionStatus: EncryptionStatus | undefined;
}

/**
 * A parser for one format, for many lines: the format is read once. Throws InvalidInputError for a line
 * whose field count does not match the format.
 */
export function flowLogRecordParser(format: string): (line: string) => FlowLogRecord {
  const names = parseFlowLogFormat(format);
  const carries = names.includes('encryption-status');
  return (line) => {
    const values = line.trim().split(/\s+/).filter(Boolean);
    if (values.length !== names.length) {
      const shown = line.length > 200 ? `${line.slice(0, 200)}…` : line;
      throw new InvalidInputError(
        `flow log record has ${values.length} field(s), the format has ${names.length}: ${JSON.stringify(shown)}`,
      );
    }
    const fields: Record<string, string> = {};
    names.forEach((name, i) => {
      fields[name] = values[i] as string;
    });
    return {
      fields,
      encryptionStatus: carries ? encryptionStatusOf(fields['encryption-status'] as string) : undefined,
    };
  };
}

/** Parse one record line against its flow log's format. */
export function parseFlowLogRecord(format: string, line: string): FlowLogRecord {
  return flowLogRecordParser(format)(line);
}

export interface EncryptionSummary {
  /** Flow records counted: those with an encryption status and a log-status of OK (or none in the format). */
  readonly flows: number;
  readonly byStatus: Readonly<Record<EncryptionStatus, number>>;
  /** Records not counted: NODATA/SKIPDATA windows, or a format without encryption-status. */
  readonly skipped: number;
  /** clear / flows; 0 when there are no flows. */
  readonly clearShare: number;
  /** Bytes of clear-text flows over bytes of all flows, when records carry `bytes`; 0 when none do. */
  readonly clearByteShare: number;
}

/** Counts per encryption status and the share of clear-text flows (and bytes). */
export function summariseEncryption(records: Iterable<FlowLogRecord>): EncryptionSummary {
  const byStatus: Record<EncryptionStatus, number> = {
    clear: 0,
    nitro: 0,
    application: 0,
    both: 0,
    unknown: 0,
  };
  let flows = 0;
  let skipped = 0;
  let bytes = 0;
  let clearBytes = 0;
  for (const record of records) {
    const logStatus = record.fields['log-status'];
    if (record.encryptionStatus === undefined || (logStatus !== undefined && logStatus !== 'OK')) {
      skipped++;
      continue;
    }
    flows++;
    byStatus[record.encryptionStatus]++;
    const recordBytes = Number(record.fields.bytes);
    if (Number.isFinite(recordBytes) && recordBytes >= 0) {
      bytes += recordBytes;
      if (record.encryptionStatus === 'clear') clearBytes += recordBytes;
    }
  }
  return {
    flows,
    byStatus,
    skipped,
    clearShare: flows === 0 ? 0 : byStatus.clear / flows,
    clearByteShare: bytes === 0 ? 0 : clearBytes / bytes,
  };
}
