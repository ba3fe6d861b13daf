/**
 * What can go wrong in the state table beyond a failed AWS call (those are `AwsCallError`s). Answers that
 * can never succeed on retry (an approval already decided, an audit entry that exists) are `InvalidInputError`s,
 * so Step Functions does not retry them; broken stored data is a `StoreIntegrityError`.
 */
import { InvalidInputError, VecguardError } from '../../shared/errors.ts';

/** Stored data is missing a part or does not have the shape vecguard wrote: a person must look. */
export class StoreIntegrityError extends VecguardError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreIntegrityError';
  }
}

export class BlobNotFoundError extends VecguardError {
  readonly pk: string;
  readonly skPrefix: string;

  constructor(pk: string, skPrefix: string) {
    super(
      `no blob stored at ${pk} / ${skPrefix}* (was the earlier step of this run skipped or its run id wrong?)`,
    );
    this.name = 'BlobNotFoundError';
    this.pk = pk;
    this.skPrefix = skPrefix;
  }
}

/** A blob with a chunk missing, or chunks of two different writes. */
export class BlobIncompleteError extends StoreIntegrityError {
  constructor(message: string) {
    super(message);
    this.name = 'BlobIncompleteError';
  }
}

/**
 * A blob whose JSON does not have the shape its name promises (functions/domain/run-blobs.ts): written by
 * another version of vecguard, or by a bug. Names the blob, the run and where the first difference is.
 */
export class BlobInvalidError extends StoreIntegrityError {
  readonly blob: string;
  readonly runKey: string;
  readonly iteration: number;
  /** The first zod issue's path, `vpcs[3].control.state` (empty: the whole value). */
  readonly path: string;

  constructor(blob: string, runKey: string, iteration: number, path: string, issue: string) {
    super(
      `blob ${blob} (iteration ${iteration}) of ${runKey} does not parse: at ${path === '' ? 'the top level' : path}: ${issue}`,
    );
    this.name = 'BlobInvalidError';
    this.blob = blob;
    this.runKey = runKey;
    this.iteration = iteration;
    this.path = path;
  }
}

export class ApprovalNotFoundError extends InvalidInputError {
  readonly approvalId: string;

  constructor(approvalId: string) {
    super(`approval ${approvalId} does not exist`);
    this.name = 'ApprovalNotFoundError';
    this.approvalId = approvalId;
  }
}

export class ApprovalExistsError extends InvalidInputError {
  readonly approvalId: string;

  constructor(approvalId: string) {
    super(`approval ${approvalId} already exists; an approval is created once`);
    this.name = 'ApprovalExistsError';
    this.approvalId = approvalId;
  }
}

/** A second answer to an approval: refused, so nobody can replay or overturn a decision. */
export class ApprovalAlreadyDecidedError extends InvalidInputError {
  readonly approvalId: string;
  readonly status: string;
  readonly decidedBy: string | undefined;
  readonly decidedAt: string | undefined;

  constructor(approvalId: string, status: string, decidedBy?: string, decidedAt?: string) {
    const by = decidedBy === undefined ? '' : ` by ${decidedBy}`;
    const at = decidedAt === undefined ? '' : ` at ${decidedAt}`;
    super(`approval ${approvalId} was already answered: ${status}${by}${at}; an approval is answered once`);
    this.name = 'ApprovalAlreadyDecidedError';
    this.approvalId = approvalId;
    this.status = status;
    this.decidedBy = decidedBy;
    this.decidedAt = decidedAt;
  }
}

export class ApprovalExpiredError extends InvalidInputError {
  readonly approvalId: string;
  readonly expiresAt: string;

  constructor(approvalId: string, expiresAt: string) {
    super(
      `approval ${approvalId} expired at ${expiresAt}; it can no longer be answered (the next run asks again)`,
    );
    this.name = 'ApprovalExpiredError';
    this.approvalId = approvalId;
    this.expiresAt = expiresAt;
  }
}

/** The audit log is append-only: an entry with the same time and action id is never overwritten. */
export class AuditEntryExistsError extends InvalidInputError {
  readonly pk: string;
  readonly sk: string;

  constructor(pk: string, sk: string) {
    super(`audit entry ${pk} / ${sk} already exists; the audit log is append-only`);
    this.name = 'AuditEntryExistsError';
    this.pk = pk;
    this.sk = sk;
  }
}
