/**
 * Every request the sandbox answered, in order: the evidence tests and the demo use to show what the
 * product did (how many mutating calls, which were dry runs, which failed and why).
 */

export interface CallRecord {
  readonly seq: number;
  /** Sandbox clock time (epoch ms) when the call arrived. */
  readonly at: number;
  readonly service: string;
  readonly action: string;
  readonly accountId?: string;
  readonly region?: string;
  readonly accessKeyId?: string;
  readonly mutating: boolean;
  readonly dryRun: boolean;
  readonly status: number;
  /** AWS error code when the call failed (`DryRunOperation` counts: it is how AWS answers a dry run). */
  readonly errorCode?: string;
}

export interface CallQuery {
  readonly service?: string;
  readonly action?: string;
  readonly accountId?: string;
  readonly region?: string;
  readonly mutating?: boolean;
  readonly errorCode?: string;
  /** Only calls with `seq` greater than this. */
  readonly sinceSeq?: number;
}

export class CallLog {
  private readonly records: CallRecord[] = [];
  private seq = 0;
  private readonly capacity: number;

  constructor(capacity = 200_000) {
    this.capacity = capacity;
  }

  append(record: Omit<CallRecord, 'seq'>): CallRecord {
    const stored = { ...record, seq: ++this.seq };
    this.records.push(stored);
    if (this.records.length > this.capacity) {
      this.records.splice(0, this.records.length - this.capacity);
    }
    return stored;
  }

  /** Sequence number of the latest call; pass it back as `sinceSeq` to see only what came after. */
  get lastSeq(): number {
    return this.seq;
  }

  query(query: CallQuery = {}): CallRecord[] {
    return this.records.filter(
      (r) =>
        (query.sinceSeq === undefined || r.seq > query.sinceSeq) &&
        (query.service === undefined || r.service === query.service) &&
        (query.action === undefined || r.action === query.action) &&
        (query.accountId === undefined || r.accountId === query.accountId) &&
        (query.region === undefined || r.region === query.region) &&
        (query.mutating === undefined || r.mutating === query.mutating) &&
        (query.errorCode === undefined || r.errorCode === query.errorCode),
    );
  }

  clear(): void {
    this.records.length = 0;
  }
}
