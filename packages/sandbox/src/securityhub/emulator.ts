/**
 * Security Hub for the sandbox (REST-JSON): the provider side vecguard uses (`BatchImportFindings`,
 * `GetFindings`), the customer side (`BatchUpdateFindings`, custom actions) and per account + Region state.
 *
 * Import semantics follow the user guide ("BatchImportFindings for finding providers"):
 * - 1–100 findings and ≤ 6 MB a call, ≤ 240 KB a finding; the caller must be the finding's `AwsAccountId`
 *   and `ProductArn` must be the account's default product `arn:aws:securityhub:<r>:<acct>:product/<acct>/default`
 *   (else the whole call is `AccessDeniedException`, as AWS answers a provider writing for someone else);
 * - per-finding failures come back with HTTP 200 in `FailedFindings {Id, ErrorCode, ErrorMessage}`;
 * - a known `Id` is updated only when the new `UpdatedAt` is later than the stored one; an equal or older
 *   `UpdatedAt` is ignored (and still counted as a success, which is what AWS reports);
 * - on update, `Note`, `UserDefinedFields`, `VerificationState` and `Workflow` are the customer's and are
 *   kept; `Confidence`, `Criticality`, `RelatedFindings`, `Severity`, `Types` are kept once a customer set
 *   them with `BatchUpdateFindings`;
 * - `Workflow.Status` NOTIFIED/RESOLVED goes back to NEW when the record is re-activated or compliance goes
 *   from PASSED to FAILED/WARNING/NOT_AVAILABLE.
 * `BatchUpdateFindings` does not change `UpdatedAt` (the provider's clock).
 * https://docs.aws.amazon.com/securityhub/latest/userguide/finding-update-batchimportfindings.html
 * https://docs.aws.amazon.com/securityhub/latest/userguide/finding-update-batchupdatefindings.html
 * https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchImportFindings.html
 */
import { randomUUID } from 'node:crypto';
import type {
  ActionTarget,
  AwsSecurityFinding,
  AwsSecurityFindingIdentifier,
  BatchImportFindingsResponse,
  BatchUpdateFindingsResponse,
  BatchUpdateFindingsUnprocessedFinding,
  CreateActionTargetResponse,
  DescribeActionTargetsResponse,
  GetFindingsResponse,
  ImportFindingsError,
} from '@aws-sdk/client-securityhub';
import { AccountRegionStore } from '../account-region-store.ts';
import type { SandboxClock } from '../clock.ts';
import type { CredentialRegistry } from '../credentials.ts';
import {
  jsonErrorResponse,
  type SandboxRequest,
  type SandboxResponse,
  type ServiceEmulator,
  ServiceError,
} from '../service.ts';
import {
  asffProblems,
  labelForNormalized,
  NORMALIZED_FOR_LABEL,
  parseAsffTimestamp,
  SEVERITY_LABELS,
  VERIFICATION_STATES,
  WORKFLOW_STATUSES,
} from './asff.ts';
import { compileFilters, FilterError, sortFindings } from './filters.ts';

const MAX_FINDINGS_PER_IMPORT = 100;
const MAX_FINDING_BYTES = 240 * 1024;
const MAX_IMPORT_BYTES = 6 * 1024 * 1024;
const MAX_ACTION_TARGETS = 50;

/** The fields `BatchUpdateFindings` owns once set; see the module comment. */
const CUSTOMER_FIELDS = ['Note', 'UserDefinedFields', 'VerificationState', 'Workflow'] as const;
const SHARED_FIELDS = ['Confidence', 'Criticality', 'RelatedFindings', 'Severity', 'Types'] as const;

type Json = Record<string, unknown>;

/** What happened to one finding of an import, for tests. */
export interface ImportRecord {
  readonly id: string;
  readonly accountId: string;
  readonly region: string;
  readonly outcome: 'created' | 'updated' | 'ignored' | 'failed';
  readonly errorCode?: string;
  readonly errorMessage?: string;
  /** Sandbox-clock epoch ms. */
  readonly at: number;
}

interface StoredFinding {
  finding: Json;
  /** SHARED_FIELDS a customer set through BatchUpdateFindings. */
  readonly customerSet: Set<string>;
}

interface Scope {
  enabled: boolean;
  readonly findings: Map<string, StoredFinding>;
  readonly actionTargets: Map<string, ActionTarget>;
}

export interface SecurityHubEmulatorOptions {
  readonly clock?: Pick<SandboxClock, 'now'>;
  /** Names the caller in AccessDenied messages (the principal ARN of the access key). */
  readonly credentials?: Pick<CredentialRegistry, 'lookup'>;
  /** Called after each import with what happened to each finding. */
  readonly onImport?: (records: readonly ImportRecord[]) => void;
}

/** An error answered as REST-JSON: `x-amzn-ErrorType` header plus `{"Code","Message"}` body. */
export class SecurityHubError extends ServiceError {
  override readonly name = 'SecurityHubError';

  constructor(code: string, status: number, message: string) {
    super(code, message, status);
  }
}

const invalidInput = (message: string) => new SecurityHubError('InvalidInputException', 400, message);

interface Route {
  readonly method: string;
  readonly path: string;
  readonly action: string;
}

/** From the operations' `http` traits in the SDK model. */
const ROUTES: readonly Route[] = [
  { method: 'POST', path: '/findings/import', action: 'BatchImportFindings' },
  { method: 'POST', path: '/findings', action: 'GetFindings' },
  { method: 'PATCH', path: '/findings/batchupdate', action: 'BatchUpdateFindings' },
  { method: 'POST', path: '/actionTargets', action: 'CreateActionTarget' },
  { method: 'POST', path: '/actionTargets/get', action: 'DescribeActionTargets' },
];

export function defaultProductArn(accountId: string, region: string): string {
  return `arn:aws:securityhub:${region}:${accountId}:product/${accountId}/default`;
}

export class SecurityHubEmulator implements ServiceEmulator {
  readonly signingName = 'securityhub';
  readonly protocol = 'rest-json' as const;

  private readonly clock: Pick<SandboxClock, 'now'>;
  private readonly credentials: Pick<CredentialRegistry, 'lookup'> | undefined;
  private readonly onImport: ((records: readonly ImportRecord[]) => void) | undefined;
  private readonly scopes = new AccountRegionStore<Scope>(() => ({
    enabled: true,
    findings: new Map(),
    actionTargets: new Map(),
  }));
  private readonly importLog: ImportRecord[] = [];

  constructor(options: SecurityHubEmulatorOptions = {}) {
    this.clock = options.clock ?? { now: () => Date.now() };
    this.credentials = options.credentials;
    this.onImport = options.onImport;
  }

  // ---- state for tests and the demo ----

  /** Stored findings of one account and Region, in creation order. */
  findings(accountId: string, region: string): AwsSecurityFinding[] {
    return [...(this.scopes.find(accountId, region)?.findings.values() ?? [])].map(
      (s) => structuredClone(s.finding) as unknown as AwsSecurityFinding,
    );
  }

  finding(accountId: string, region: string, id: string): AwsSecurityFinding | undefined {
    const stored = this.scopes
      .find(accountId, region)
      ?.findings.get(findingKey(defaultProductArn(accountId, region), id));
    return stored === undefined
      ? undefined
      : (structuredClone(stored.finding) as unknown as AwsSecurityFinding);
  }

  /** Every finding outcome of every import, in order. */
  get imports(): readonly ImportRecord[] {
    return this.importLog;
  }

  actionTargets(accountId: string, region: string): ActionTarget[] {
    return [...(this.scopes.find(accountId, region)?.actionTargets.values() ?? [])];
  }

  /** Security Hub on or off for an account and Region (on by default). */
  setEnabled(accountId: string, region: string, enabled: boolean): void {
    this.scopes.of(accountId, region).enabled = enabled;
  }

  // ---- the service ----

  actionOf(req: SandboxRequest): string {
    return this.route(req)?.action ?? `${req.method} ${req.path.split('?')[0]}`;
  }

  private route(req: SandboxRequest): Route | undefined {
    const path = req.path.split('?')[0]?.replace(/\/+$/, '') ?? '';
    return ROUTES.find((r) => r.method === req.method && r.path === path);
  }

  async handle(req: SandboxRequest): Promise<SandboxResponse> {
    const requestId = randomUUID();
    const route = this.route(req);
    try {
      if (route === undefined) {
        throw new SecurityHubError(
          'UnknownOperationException',
          404,
          `The sandbox does not implement Security Hub ${req.method} ${req.path}`,
        );
      }
      let body: Json;
      try {
        const parsed: unknown = req.body === '' ? {} : JSON.parse(req.body);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
          throw new Error('not an object');
        }
        body = parsed as Json;
      } catch {
        throw invalidInput('The request body is not a JSON object');
      }
      const scope = this.scopes.of(req.accountId, req.region);
      let output: object;
      switch (route.action) {
        case 'BatchImportFindings':
          output = this.batchImportFindings(req, scope, body);
          break;
        default:
          if (!scope.enabled) {
            throw new SecurityHubError(
              'InvalidAccessException',
              401,
              `Account ${req.accountId} is not subscribed to AWS Security Hub`,
            );
          }
          output = this.dispatch(route.action, req, scope, body);
      }
      return {
        status: 200,
        headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId },
        body: JSON.stringify(output),
        call: { action: route.action },
      };
    } catch (error) {
      if (!(error instanceof SecurityHubError)) {
        throw error;
      }
      return {
        ...jsonErrorResponse(error, requestId, 'application/json', {
          Code: error.code,
          Message: error.message,
        }),
        call: { ...(route === undefined ? {} : { action: route.action }), errorCode: error.code },
      };
    }
  }

  private dispatch(action: string, req: SandboxRequest, scope: Scope, body: Json): object {
    switch (action) {
      case 'GetFindings':
        return this.getFindings(scope, body);
      case 'BatchUpdateFindings':
        return this.batchUpdateFindings(scope, body);
      case 'CreateActionTarget':
        return this.createActionTarget(req, scope, body);
      default:
        return this.describeActionTargets(scope, body);
    }
  }

  private batchImportFindings(req: SandboxRequest, scope: Scope, body: Json): BatchImportFindingsResponse {
    const findings = body.Findings;
    if (!Array.isArray(findings)) {
      throw invalidInput("Invalid parameter 'Findings'. data.Findings should be array");
    }
    if (findings.length < 1 || findings.length > MAX_FINDINGS_PER_IMPORT) {
      throw invalidInput(
        findings.length < 1
          ? "Invalid parameter 'Findings'. data.Findings should NOT have fewer than 1 items"
          : `Invalid parameter 'Findings'. data.Findings should NOT have more than ${MAX_FINDINGS_PER_IMPORT} items`,
      );
    }
    if (Buffer.byteLength(req.body) > MAX_IMPORT_BYTES) {
      throw invalidInput(`The request is larger than the maximum of ${MAX_IMPORT_BYTES} bytes (6 MB)`);
    }
    const productArn = defaultProductArn(req.accountId, req.region);
    // Authorization comes before any finding is looked at: the resource of the call is the ProductArn.
    for (const finding of findings as Json[]) {
      const claimedProduct = typeof finding?.ProductArn === 'string' ? finding.ProductArn : undefined;
      const claimedAccount = finding?.AwsAccountId;
      if (
        (claimedProduct !== undefined && claimedProduct !== productArn) ||
        (claimedAccount !== undefined && claimedAccount !== req.accountId)
      ) {
        const caller =
          this.credentials?.lookup(req.accessKeyId)?.principalArn ?? `arn:aws:iam::${req.accountId}:root`;
        throw new SecurityHubError(
          'AccessDeniedException',
          403,
          `User: ${caller} is not authorized to perform: securityhub:BatchImportFindings on resource: ${claimedProduct ?? productArn}`,
        );
      }
    }

    const now = this.clock.now();
    const records: ImportRecord[] = [];
    const failed: ImportFindingsError[] = [];
    const fail = (id: string, errorCode: string, errorMessage: string) => {
      failed.push({ Id: id, ErrorCode: errorCode, ErrorMessage: errorMessage });
      records.push({
        id,
        accountId: req.accountId,
        region: req.region,
        outcome: 'failed',
        errorCode,
        errorMessage,
        at: now,
      });
    };
    for (const raw of findings as unknown[]) {
      const input = (typeof raw === 'object' && raw !== null ? raw : {}) as Json;
      const id = typeof input.Id === 'string' ? input.Id : '';
      if (!scope.enabled) {
        fail(id, 'InvalidAccess', `Account ${req.accountId} is not subscribed to AWS Security Hub`);
        continue;
      }
      if (Buffer.byteLength(JSON.stringify(raw)) > MAX_FINDING_BYTES) {
        fail(
          id,
          'InvalidInput',
          `Finding size exceeds the maximum allowed size of ${MAX_FINDING_BYTES / 1024} KB.`,
        );
        continue;
      }
      const problems = asffProblems(raw);
      if (problems.length > 0) {
        fail(id, 'InvalidInput', `Finding does not adhere to Amazon Finding Format. ${problems.join(', ')}.`);
        continue;
      }
      const key = findingKey(productArn, id);
      const existing = scope.findings.get(key);
      if (existing === undefined) {
        scope.findings.set(key, {
          finding: this.created(input, req, productArn, now),
          customerSet: new Set(),
        });
        records.push({ id, accountId: req.accountId, region: req.region, outcome: 'created', at: now });
        continue;
      }
      const storedAt = parseAsffTimestamp(existing.finding.UpdatedAt) ?? -Infinity;
      const incomingAt = parseAsffTimestamp(input.UpdatedAt) ?? -Infinity;
      if (incomingAt <= storedAt) {
        records.push({ id, accountId: req.accountId, region: req.region, outcome: 'ignored', at: now });
        continue;
      }
      existing.finding = this.updated(existing, input, req, productArn, now);
      records.push({ id, accountId: req.accountId, region: req.region, outcome: 'updated', at: now });
    }
    this.importLog.push(...records);
    this.onImport?.(records);
    return {
      FailedCount: failed.length,
      SuccessCount: findings.length - failed.length,
      FailedFindings: failed,
    };
  }

  /** What Security Hub adds to a new finding. */
  private created(input: Json, req: SandboxRequest, productArn: string, now: number): Json {
    const finding: Json = structuredClone(input);
    finding.Region = req.region;
    finding.CompanyName = 'Personal';
    finding.ProductName = 'Default';
    finding.ProcessedAt = new Date(now).toISOString();
    finding.RecordState = input.RecordState ?? 'ACTIVE';
    finding.Workflow = input.Workflow ?? { Status: 'NEW' };
    finding.WorkflowState = 'NEW';
    finding.ProductFields = {
      ...((input.ProductFields as Json | undefined) ?? {}),
      'aws/securityhub/FindingId': `${productArn}/${String(input.Id)}`,
      'aws/securityhub/ProductName': 'Default',
      'aws/securityhub/CompanyName': 'Personal',
    };
    applyProviderFields(finding);
    return finding;
  }

  private updated(
    existing: StoredFinding,
    input: Json,
    req: SandboxRequest,
    productArn: string,
    now: number,
  ): Json {
    const before = existing.finding;
    const next = this.created(input, req, productArn, now);
    for (const field of CUSTOMER_FIELDS) {
      if (before[field] === undefined) {
        delete next[field];
      } else {
        next[field] = before[field];
      }
    }
    next.WorkflowState = before.WorkflowState;
    for (const field of SHARED_FIELDS) {
      if (existing.customerSet.has(field)) {
        next[field] = before[field];
      }
    }
    const workflow = next.Workflow as { Status?: string } | undefined;
    const status = workflow?.Status;
    const reactivated = before.RecordState === 'ARCHIVED' && next.RecordState === 'ACTIVE';
    const beforeCompliance = (before.Compliance as { Status?: string } | undefined)?.Status;
    const nextCompliance = (next.Compliance as { Status?: string } | undefined)?.Status;
    const failedAgain =
      beforeCompliance === 'PASSED' && nextCompliance !== undefined && nextCompliance !== 'PASSED';
    if ((status === 'NOTIFIED' || status === 'RESOLVED') && (reactivated || failedAgain)) {
      next.Workflow = { ...workflow, Status: 'NEW' };
    }
    return next;
  }

  private getFindings(scope: Scope, body: Json): GetFindingsResponse {
    const maxResults = body.MaxResults ?? 100;
    if (
      typeof maxResults !== 'number' ||
      !Number.isInteger(maxResults) ||
      maxResults < 1 ||
      maxResults > 100
    ) {
      throw invalidInput("Invalid parameter 'MaxResults'. data.MaxResults should be <= 100 and >= 1");
    }
    let matches: Json[];
    try {
      const predicate = compileFilters(body.Filters as Json | undefined, this.clock.now());
      matches = [...scope.findings.values()].map((s) => s.finding).filter(predicate);
      sortFindings(matches, body.SortCriteria as { Field?: string; SortOrder?: string }[] | undefined);
    } catch (error) {
      if (error instanceof FilterError) {
        throw invalidInput(error.message);
      }
      throw error;
    }
    const start = readToken(body.NextToken);
    const page = matches.slice(start, start + maxResults);
    const next = start + maxResults;
    return {
      Findings: structuredClone(page) as unknown as AwsSecurityFinding[],
      ...(next < matches.length ? { NextToken: writeToken(next) } : {}),
    };
  }

  private batchUpdateFindings(scope: Scope, body: Json): BatchUpdateFindingsResponse {
    const identifiers = body.FindingIdentifiers;
    if (!Array.isArray(identifiers) || identifiers.length < 1 || identifiers.length > 100) {
      throw invalidInput("Invalid parameter 'FindingIdentifiers'. It must hold 1 to 100 finding identifiers");
    }
    const updates: Json = {};
    for (const field of [...CUSTOMER_FIELDS, ...SHARED_FIELDS]) {
      if (body[field] !== undefined) {
        updates[field] = body[field];
      }
    }
    if (Object.keys(updates).length === 0) {
      throw invalidInput('At least one field to update must be provided');
    }
    checkCustomerUpdate(updates);
    const now = new Date(this.clock.now()).toISOString();
    const processed: AwsSecurityFindingIdentifier[] = [];
    const unprocessed: BatchUpdateFindingsUnprocessedFinding[] = [];
    const seen = new Set<string>();
    for (const identifier of identifiers as AwsSecurityFindingIdentifier[]) {
      if (typeof identifier?.Id !== 'string' || typeof identifier?.ProductArn !== 'string') {
        throw invalidInput('Each FindingIdentifier needs an Id and a ProductArn');
      }
      const key = findingKey(identifier.ProductArn, identifier.Id);
      if (seen.has(key)) {
        unprocessed.push({
          FindingIdentifier: identifier,
          ErrorCode: 'DuplicatedFindingIdentifier',
          ErrorMessage: 'Duplicated finding identifier',
        });
        continue;
      }
      seen.add(key);
      const stored = scope.findings.get(key);
      if (stored === undefined) {
        unprocessed.push({
          FindingIdentifier: identifier,
          ErrorCode: 'FindingNotFound',
          ErrorMessage: 'Finding Not Found',
        });
        continue;
      }
      const finding = stored.finding;
      if (updates.Note !== undefined) {
        const note = updates.Note as { Text: string; UpdatedBy: string };
        finding.Note = { Text: note.Text, UpdatedBy: note.UpdatedBy, UpdatedAt: now };
      }
      if (updates.Workflow !== undefined) {
        finding.Workflow = { Status: (updates.Workflow as { Status: string }).Status };
      }
      if (updates.VerificationState !== undefined) finding.VerificationState = updates.VerificationState;
      if (updates.UserDefinedFields !== undefined) finding.UserDefinedFields = updates.UserDefinedFields;
      for (const field of SHARED_FIELDS) {
        if (updates[field] !== undefined) {
          finding[field] = structuredClone(updates[field]);
          stored.customerSet.add(field);
        }
      }
      if (updates.Severity !== undefined) {
        finding.Severity = customerSeverity(updates.Severity as Json);
      }
      processed.push({ Id: identifier.Id, ProductArn: identifier.ProductArn });
    }
    return { ProcessedFindings: processed, UnprocessedFindings: unprocessed };
  }

  private createActionTarget(req: SandboxRequest, scope: Scope, body: Json): CreateActionTargetResponse {
    const { Name, Description, Id } = body as { Name?: unknown; Description?: unknown; Id?: unknown };
    for (const [field, value] of Object.entries({ Name, Description, Id })) {
      if (typeof value !== 'string' || value.trim() === '') {
        throw invalidInput(`Invalid parameter '${field}'. ${field} is required`);
      }
    }
    if ((Name as string).length > 20) {
      throw invalidInput("Invalid parameter 'Name'. Name can contain up to 20 characters");
    }
    if (!/^[A-Za-z0-9]{1,20}$/.test(Id as string)) {
      throw invalidInput("Invalid parameter 'Id'. Id can contain up to 20 alphanumeric characters");
    }
    const arn = `arn:aws:securityhub:${req.region}:${req.accountId}:action/custom/${Id as string}`;
    if (scope.actionTargets.has(arn)) {
      throw new SecurityHubError('ResourceConflictException', 409, `Action target ${arn} already exists`);
    }
    if (scope.actionTargets.size >= MAX_ACTION_TARGETS) {
      throw new SecurityHubError(
        'LimitExceededException',
        429,
        `An account can have at most ${MAX_ACTION_TARGETS} custom actions per Region`,
      );
    }
    scope.actionTargets.set(arn, {
      ActionTargetArn: arn,
      Name: Name as string,
      Description: Description as string,
    });
    return { ActionTargetArn: arn };
  }

  private describeActionTargets(scope: Scope, body: Json): DescribeActionTargetsResponse {
    const arns = body.ActionTargetArns as string[] | undefined;
    const all = [...scope.actionTargets.values()];
    const selected =
      arns === undefined || arns.length === 0
        ? all
        : all.filter((t) => arns.includes(t.ActionTargetArn ?? ''));
    const maxResults = typeof body.MaxResults === 'number' ? body.MaxResults : 100;
    const start = readToken(body.NextToken);
    const next = start + maxResults;
    return {
      ActionTargets: selected.slice(start, next),
      ...(next < selected.length ? { NextToken: writeToken(next) } : {}),
    };
  }
}

/** A service factory for `startSandboxServer({ services: [securityHub()] })`. */
export function securityHub(
  options: Omit<SecurityHubEmulatorOptions, 'clock' | 'credentials'> = {},
): (context: { clock: SandboxClock; credentials: CredentialRegistry }) => SecurityHubEmulator {
  return (context) =>
    new SecurityHubEmulator({ ...options, clock: context.clock, credentials: context.credentials });
}

function findingKey(productArn: string, id: string): string {
  return `${productArn}\n${id}`;
}

function readToken(token: unknown): number {
  if (token === undefined || token === null || token === '') {
    return 0;
  }
  const offset =
    typeof token === 'string' ? Number(Buffer.from(token, 'base64url').toString('utf8')) : Number.NaN;
  if (!Number.isInteger(offset) || offset < 0) {
    throw invalidInput("Invalid parameter 'NextToken'. The token is not valid");
  }
  return offset;
}

function writeToken(offset: number): string {
  return Buffer.from(String(offset)).toString('base64url');
}

/**
 * Security Hub fills the top-level Severity, Types, Confidence, Criticality and RelatedFindings from
 * FindingProviderFields when the provider sent only those, and completes a Severity label/normalized pair.
 */
function applyProviderFields(finding: Json): void {
  const provided = (finding.FindingProviderFields as Json | undefined) ?? {};
  for (const field of SHARED_FIELDS) {
    if (finding[field] === undefined && provided[field] !== undefined) {
      finding[field] = structuredClone(provided[field]);
    }
  }
  if (finding.Severity !== undefined) {
    finding.Severity = customerSeverity(finding.Severity as Json);
  }
}

function customerSeverity(severity: Json): Json {
  const out: Json = { ...severity };
  if (typeof out.Label === 'string' && out.Normalized === undefined) {
    out.Normalized = NORMALIZED_FOR_LABEL[out.Label as keyof typeof NORMALIZED_FOR_LABEL];
  } else if (typeof out.Normalized === 'number' && out.Label === undefined) {
    out.Label = labelForNormalized(out.Normalized);
  }
  return out;
}

/** https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchUpdateFindings.html request limits. */
function checkCustomerUpdate(updates: Json): void {
  const note = updates.Note as { Text?: unknown; UpdatedBy?: unknown } | undefined;
  if (note !== undefined) {
    if (typeof note.Text !== 'string' || note.Text.length < 1 || note.Text.length > 512) {
      throw invalidInput(
        "Invalid parameter 'Note.Text'. It is required and can contain up to 512 characters",
      );
    }
    if (typeof note.UpdatedBy !== 'string' || note.UpdatedBy.length < 1 || note.UpdatedBy.length > 512) {
      throw invalidInput(
        "Invalid parameter 'Note.UpdatedBy'. It is required and can contain up to 512 characters",
      );
    }
  }
  const workflow = updates.Workflow as { Status?: unknown } | undefined;
  if (workflow !== undefined && !WORKFLOW_STATUSES.includes(workflow.Status as never)) {
    throw invalidInput(
      `Invalid parameter 'Workflow.Status'. It must be one of ${WORKFLOW_STATUSES.join(', ')}`,
    );
  }
  if (
    updates.VerificationState !== undefined &&
    !VERIFICATION_STATES.includes(updates.VerificationState as never)
  ) {
    throw invalidInput(
      `Invalid parameter 'VerificationState'. It must be one of ${VERIFICATION_STATES.join(', ')}`,
    );
  }
  const severity = updates.Severity as { Label?: unknown; Normalized?: unknown } | undefined;
  if (severity !== undefined) {
    if (severity.Label !== undefined && !SEVERITY_LABELS.includes(severity.Label as never)) {
      throw invalidInput(
        `Invalid parameter 'Severity.Label'. It must be one of ${SEVERITY_LABELS.join(', ')}`,
      );
    }
    if (severity.Normalized !== undefined && !isIntegerIn(severity.Normalized, 0, 100)) {
      throw invalidInput("Invalid parameter 'Severity.Normalized'. It must be an integer from 0 to 100");
    }
  }
  for (const field of ['Confidence', 'Criticality']) {
    if (updates[field] !== undefined && !isIntegerIn(updates[field], 0, 100)) {
      throw invalidInput(`Invalid parameter '${field}'. It must be an integer from 0 to 100`);
    }
  }
}

function isIntegerIn(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}
