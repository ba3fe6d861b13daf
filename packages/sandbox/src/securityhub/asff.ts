/**
 * The checks Security Hub makes on each finding of a `BatchImportFindings` call.
 *
 * Security Hub validates every finding against the AWS Security Finding Format JSON schema and reports a
 * failure per finding (HTTP 200, `FailedFindings[] {Id, ErrorCode: 'InvalidInput', ErrorMessage}`) with an
 * ajv-style message, e.g. `Finding does not adhere to Amazon Finding Format. data should have required
 * property 'Description'.` or `… data.Types[0] should match pattern "^([^/]+)(/[^/]+){0,2}$".` (messages as
 * reported by users of Cloud Custodian, Prowler and kube-bench). The rules below are the subset of the
 * schema a provider like vecguard can trip over; the limits are from the ASFF syntax reference.
 * https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format-syntax.html
 */

export const SEVERITY_LABELS = ['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export const COMPLIANCE_STATUSES = ['PASSED', 'WARNING', 'FAILED', 'NOT_AVAILABLE'] as const;
export const RECORD_STATES = ['ACTIVE', 'ARCHIVED'] as const;
export const WORKFLOW_STATUSES = ['NEW', 'NOTIFIED', 'RESOLVED', 'SUPPRESSED'] as const;
export const VERIFICATION_STATES = ['UNKNOWN', 'TRUE_POSITIVE', 'FALSE_POSITIVE', 'BENIGN_POSITIVE'] as const;

const REQUIRED = [
  'AwsAccountId',
  'CreatedAt',
  'Description',
  'GeneratorId',
  'Id',
  'ProductArn',
  'Resources',
  'SchemaVersion',
  'Title',
  'UpdatedAt',
] as const;

const TYPE_PATTERN = /^([^/]+)(\/[^/]+){0,2}$/;

/** ISO 8601 as ASFF accepts it: `2019-01-31T23:00:00Z`, up to 9 fraction digits, `Z` or a ±hh[:mm] offset. */
const TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z|[+-]\d{2}(:?\d{2})?)$/;

/** Epoch ms of an ASFF timestamp, or `undefined` when it is not one. Fractions beyond ms are cut. */
export function parseAsffTimestamp(value: unknown): number | undefined {
  if (typeof value !== 'string') {
    return undefined;
  }
  const match = TIMESTAMP.exec(value);
  if (match === null) {
    return undefined;
  }
  const [, base = '', fraction = '', zone = 'Z'] = match;
  const offset =
    zone === 'Z'
      ? 'Z'
      : zone.length === 3
        ? `${zone}:00`
        : zone.includes(':')
          ? zone
          : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const ms = Date.parse(`${base}${fraction.slice(0, 4)}${offset}`);
  return Number.isNaN(ms) ? undefined : ms;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class AsffProblems {
  readonly list: string[] = [];

  add(path: string, problem: string): void {
    this.list.push(`${path} ${problem}`);
  }

  string(path: string, value: unknown, min: number, max: number): void {
    if (value === undefined) {
      return;
    }
    if (typeof value !== 'string') {
      this.add(path, 'should be string');
    } else if (value.length < min) {
      this.add(path, `should NOT be shorter than ${min} characters`);
    } else if (value.length > max) {
      this.add(path, `should NOT be longer than ${max} characters`);
    }
  }

  oneOf(path: string, value: unknown, allowed: readonly string[]): void {
    if (value !== undefined && !allowed.includes(value as string)) {
      this.add(path, 'should be equal to one of the allowed values');
    }
  }

  timestamp(path: string, value: unknown): void {
    if (value !== undefined && parseAsffTimestamp(value) === undefined) {
      this.add(path, 'should match format "date-time"');
    }
  }

  integer(path: string, value: unknown, min: number, max: number): void {
    if (value === undefined) {
      return;
    }
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.add(path, 'should be integer');
    } else if (value < min) {
      this.add(path, `should be >= ${min}`);
    } else if (value > max) {
      this.add(path, `should be <= ${max}`);
    }
  }

  array(path: string, value: unknown, min: number, max: number): value is unknown[] {
    if (value === undefined) {
      return false;
    }
    if (!Array.isArray(value)) {
      this.add(path, 'should be array');
      return false;
    }
    if (value.length < min) {
      this.add(path, `should NOT have fewer than ${min} items`);
    }
    if (value.length > max) {
      this.add(path, `should NOT have more than ${max} items`);
    }
    return true;
  }

  stringMap(path: string, value: unknown, maxEntries: number, maxKey: number, maxValue: number): void {
    if (value === undefined) {
      return;
    }
    if (!isObject(value)) {
      this.add(path, 'should be object');
      return;
    }
    const entries = Object.entries(value);
    if (entries.length > maxEntries) {
      this.add(path, `should NOT have more than ${maxEntries} properties`);
    }
    for (const [key, entry] of entries) {
      if (key.length > maxKey) {
        this.add(path, `property name '${key}' is invalid`);
      }
      this.string(`${path}['${key}']`, entry, 0, maxValue);
    }
  }
}

/**
 * The problems of one finding, each like `data.Title should NOT be longer than 256 characters`;
 * empty when the finding is valid.
 */
export function asffProblems(finding: unknown): string[] {
  const problems = new AsffProblems();
  if (!isObject(finding)) {
    problems.add('data', 'should be object');
    return problems.list;
  }
  for (const property of REQUIRED) {
    if (finding[property] === undefined) {
      problems.list.push(`data should have required property '${property}'`);
    }
  }
  // Severity and Types may instead come in FindingProviderFields (the schema's anyOf).
  for (const property of ['Severity', 'Types']) {
    if (finding[property] === undefined && finding.FindingProviderFields === undefined) {
      problems.list.push(
        `data should have required property '${property}'`,
        "data should have required property 'FindingProviderFields'",
        'data should match some schema in anyOf',
      );
    }
  }
  if (finding.SchemaVersion !== undefined && finding.SchemaVersion !== '2018-10-08') {
    problems.add('data.SchemaVersion', 'should be equal to one of the allowed values');
  }
  if (finding.AwsAccountId !== undefined && !/^\d{12}$/.test(String(finding.AwsAccountId))) {
    problems.add('data.AwsAccountId', 'should match pattern "^[0-9]{12}$"');
  }
  problems.string('data.Id', finding.Id, 1, 512);
  problems.string('data.GeneratorId', finding.GeneratorId, 1, 512);
  problems.string('data.ProductArn', finding.ProductArn, 1, 2048);
  problems.string('data.Title', finding.Title, 1, 256);
  problems.string('data.Description', finding.Description, 1, 1024);
  for (const property of ['CreatedAt', 'UpdatedAt', 'FirstObservedAt', 'LastObservedAt']) {
    problems.timestamp(`data.${property}`, finding[property]);
  }
  checkTypes(problems, 'data.Types', finding.Types);
  checkSeverity(problems, 'data.Severity', finding.Severity);
  if (isObject(finding.FindingProviderFields)) {
    checkTypes(problems, 'data.FindingProviderFields.Types', finding.FindingProviderFields.Types);
    checkSeverity(problems, 'data.FindingProviderFields.Severity', finding.FindingProviderFields.Severity);
  }
  if (problems.array('data.Resources', finding.Resources, 1, 32)) {
    (finding.Resources as unknown[]).forEach((resource, i) => {
      const path = `data.Resources[${i}]`;
      if (!isObject(resource)) {
        problems.add(path, 'should be object');
        return;
      }
      for (const property of ['Type', 'Id']) {
        if (resource[property] === undefined) {
          problems.add(path, `should have required property '${property}'`);
        }
      }
      problems.string(`${path}.Type`, resource.Type, 1, 256);
      problems.string(`${path}.Id`, resource.Id, 1, 512);
      problems.oneOf(`${path}.Partition`, resource.Partition, ['aws', 'aws-cn', 'aws-us-gov']);
      problems.stringMap(`${path}.Tags`, resource.Tags, 50, 128, 256);
    });
  }
  if (isObject(finding.Compliance)) {
    problems.oneOf('data.Compliance.Status', finding.Compliance.Status, COMPLIANCE_STATUSES);
  }
  problems.oneOf('data.RecordState', finding.RecordState, RECORD_STATES);
  problems.oneOf('data.VerificationState', finding.VerificationState, VERIFICATION_STATES);
  if (isObject(finding.Workflow)) {
    problems.oneOf('data.Workflow.Status', finding.Workflow.Status, WORKFLOW_STATUSES);
  }
  problems.integer('data.Confidence', finding.Confidence, 0, 100);
  problems.integer('data.Criticality', finding.Criticality, 0, 100);
  if (isObject(finding.Remediation) && isObject(finding.Remediation.Recommendation)) {
    problems.string('data.Remediation.Recommendation.Text', finding.Remediation.Recommendation.Text, 1, 512);
  }
  if (isObject(finding.Note)) {
    for (const property of ['Text', 'UpdatedBy', 'UpdatedAt']) {
      if (finding.Note[property] === undefined) {
        problems.add('data.Note', `should have required property '${property}'`);
      }
    }
    problems.string('data.Note.Text', finding.Note.Text, 1, 512);
    problems.timestamp('data.Note.UpdatedAt', finding.Note.UpdatedAt);
  }
  problems.stringMap('data.ProductFields', finding.ProductFields, 50, 128, 2048);
  problems.stringMap('data.UserDefinedFields', finding.UserDefinedFields, 50, 128, 1024);
  return problems.list;
}

function checkTypes(problems: AsffProblems, path: string, types: unknown): void {
  if (problems.array(path, types, 0, 50)) {
    (types as unknown[]).forEach((type, i) => {
      if (typeof type !== 'string' || !TYPE_PATTERN.test(type)) {
        problems.add(`${path}[${i}]`, `should match pattern "${TYPE_PATTERN.source}"`);
      }
    });
  }
}

function checkSeverity(problems: AsffProblems, path: string, severity: unknown): void {
  if (severity === undefined) {
    return;
  }
  if (!isObject(severity)) {
    problems.add(path, 'should be object');
    return;
  }
  if (severity.Label === undefined && severity.Normalized === undefined) {
    problems.add(path, "should have required property 'Label'");
  }
  problems.oneOf(`${path}.Label`, severity.Label, SEVERITY_LABELS);
  problems.integer(`${path}.Normalized`, severity.Normalized, 0, 100);
}

/** The label Security Hub derives from a normalized score. */
export function labelForNormalized(normalized: number): (typeof SEVERITY_LABELS)[number] {
  if (normalized === 0) return 'INFORMATIONAL';
  if (normalized < 40) return 'LOW';
  if (normalized < 70) return 'MEDIUM';
  if (normalized < 90) return 'HIGH';
  return 'CRITICAL';
}

/** The normalized score Security Hub derives from a label. */
export const NORMALIZED_FOR_LABEL: Readonly<Record<(typeof SEVERITY_LABELS)[number], number>> = {
  INFORMATIONAL: 0,
  LOW: 1,
  MEDIUM: 40,
  HIGH: 70,
  CRITICAL: 90,
};
