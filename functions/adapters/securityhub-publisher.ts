/**
 * Publishes one scope's findings (account + Region) to Security Hub with the lifecycle of docs/design.md §4: read back
 * what vecguard imported before, reconcile (current findings updated, problems gone resolved, resources gone
 * archived), and import in batches within BatchImportFindings' limits.
 *
 * Security Hub answers BatchImportFindings with HTTP 200 even when findings fail; those come back in
 * `FailedFindings` and are returned to the caller, never dropped. A call that fails as a whole throws.
 * https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchImportFindings.html
 * https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_GetFindings.html
 * Rate limits (BatchImportFindings 10 TPS burst 30, GetFindings 3 TPS burst 6):
 * https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-limits.html
 */
import {
  type AwsSecurityFinding,
  type AwsSecurityFindingFilters,
  BatchImportFindingsCommand,
  type BatchImportFindingsCommandOutput,
  GetFindingsCommand,
  type SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { type Finding, parseStoredFinding, productArn } from '../domain/asff.ts';
import { FINDING_ID_PREFIX } from '../domain/findings.ts';
import { batchFindings, reconcileFindings } from '../domain/findings-lifecycle.ts';
import { toAwsCallError } from '../shared/errors.ts';
import { type Clock, systemClock, TokenBucket } from './rate-limit.ts';

/** One call at a time, spaced 100 ms apart: 10 TPS, Security Hub's sustained rate for imports. */
export const IMPORT_RATE = { capacity: 1, refillPerSecond: 10 } as const;
/** GetFindings is allowed 3 TPS. */
export const GET_FINDINGS_RATE = { capacity: 1, refillPerSecond: 3 } as const;

export interface PublishFindingsInput {
  readonly client: SecurityHubClient;
  readonly accountId: string;
  readonly region: string;
  /** The findings built from this run's audit (`findingsForAudit`). */
  readonly findings: readonly Finding[];
  /** What vecguard imported before for this scope; absent: read from Security Hub with GetFindings. */
  readonly previous?: readonly Finding[];
  /** ISO-8601: the snapshot's clock, stamped on resolved and archived findings. */
  readonly takenAt: string;
  /** Ids (or ARNs) of the VPCs, Transit Gateways and peerings that still exist; absent: unknown, never archive. */
  readonly liveResourceIds?: ReadonlySet<string>;
  /** Spacing of calls; tests pass a fake clock. */
  readonly clock?: Clock;
}

export interface FailedFinding {
  readonly id: string;
  readonly code: string;
  readonly message: string;
}

export interface PublishResult {
  /** Findings Security Hub accepted (created, updated, or unchanged because not newer). */
  readonly imported: number;
  /** Findings Security Hub refused, with its error code and message. */
  readonly failed: FailedFinding[];
  /** Previous findings resolved now (problem gone), and accepted. */
  readonly resolved: number;
  /** Previous findings archived now (resource gone), and accepted. */
  readonly archived: number;
  /** Previous vecguard findings that could not be read back (left untouched), by Id. */
  readonly unreadable: string[];
}

/** Reconcile this run's findings with the previous ones and import the result. */
export async function publishFindings(input: PublishFindingsInput): Promise<PublishResult> {
  const clock = input.clock ?? systemClock;
  let previous = input.previous;
  let unreadable: string[] = [];
  if (previous === undefined) {
    const read = await readPreviousFindings(input.client, input.accountId, input.region, clock);
    previous = read.findings;
    unreadable = read.unreadable;
  }
  const reconciliation = reconcileFindings(input.findings, previous, {
    takenAt: input.takenAt,
    ...(input.liveResourceIds === undefined ? {} : { liveResourceIds: input.liveResourceIds }),
  });

  const bucket = new TokenBucket(IMPORT_RATE, clock);
  const failed: FailedFinding[] = [];
  let imported = 0;
  for (const batch of batchFindings(reconciliation.toImport)) {
    await bucket.take();
    let output: BatchImportFindingsCommandOutput;
    try {
      output = await input.client.send(
        new BatchImportFindingsCommand({ Findings: batch as unknown as AwsSecurityFinding[] }),
      );
    } catch (error) {
      throw toAwsCallError(error, 'securityhub', 'BatchImportFindings');
    }
    const batchFailed = (output.FailedFindings ?? []).map((f) => ({
      id: f.Id ?? '',
      code: f.ErrorCode ?? 'Unknown',
      message: f.ErrorMessage ?? '',
    }));
    // FailedCount without details still means findings were lost: count them as failed, unnamed.
    for (let i = batchFailed.length; i < (output.FailedCount ?? 0); i++) {
      batchFailed.push({
        id: '',
        code: 'Unknown',
        message: 'Security Hub counted a failure without details',
      });
    }
    failed.push(...batchFailed);
    imported += output.SuccessCount ?? batch.length - batchFailed.length;
  }

  const failedIds = new Set(failed.map((f) => f.id));
  return {
    imported,
    failed,
    resolved: reconciliation.resolvedIds.filter((id) => !failedIds.has(id)).length,
    archived: reconciliation.archivedIds.filter((id) => !failedIds.has(id)).length,
    unreadable,
  };
}

/** Filters that select every finding vecguard imported for one account and Region, archived ones included. */
export function previousFindingsFilters(accountId: string, region: string): AwsSecurityFindingFilters {
  return {
    ProductArn: [{ Value: productArn(accountId, region), Comparison: 'EQUALS' }],
    Id: [{ Value: `${FINDING_ID_PREFIX}${accountId}/${region}/`, Comparison: 'PREFIX' }],
    AwsAccountId: [{ Value: accountId, Comparison: 'EQUALS' }],
    Region: [{ Value: region, Comparison: 'EQUALS' }],
  };
}

/**
 * Every vecguard finding of the scope, read back into the shape a provider may send again. Archived findings
 * are read too: a resource that comes back must get an `UpdatedAt` later than its archived finding's, or
 * Security Hub would ignore the update.
 */
export async function readPreviousFindings(
  client: SecurityHubClient,
  accountId: string,
  region: string,
  clock: Clock = systemClock,
): Promise<{ findings: Finding[]; unreadable: string[] }> {
  const bucket = new TokenBucket(GET_FINDINGS_RATE, clock);
  const findings: Finding[] = [];
  const unreadable: string[] = [];
  let nextToken: string | undefined;
  do {
    await bucket.take();
    let page: { Findings?: AwsSecurityFinding[]; NextToken?: string };
    try {
      page = await client.send(
        new GetFindingsCommand({
          Filters: previousFindingsFilters(accountId, region),
          MaxResults: 100,
          ...(nextToken === undefined ? {} : { NextToken: nextToken }),
        }),
      );
    } catch (error) {
      throw toAwsCallError(error, 'securityhub', 'GetFindings');
    }
    for (const raw of page.Findings ?? []) {
      try {
        findings.push(parseStoredFinding(raw));
      } catch {
        // Not a shape vecguard can send back (another writer, or an older format): leave it alone.
        unreadable.push(raw.Id ?? '(no Id)');
      }
    }
    nextToken = page.NextToken === '' ? undefined : page.NextToken;
  } while (nextToken !== undefined);
  return { findings, unreadable };
}
