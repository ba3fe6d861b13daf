/**
 * AWS Organizations for the sandbox: the read calls that walk an organisation, over awsJson1_1
 * (`X-Amz-Target: AWSOrganizationsV20161128.<Action>`, signing name `organizations`).
 *
 * DescribeOrganization, ListRoots, ListOrganizationalUnitsForParent, ListAccountsForParent, ListChildren,
 * ListParents and ListAccounts, paged with `MaxResults` (1–20) and `NextToken`; a page holds at most
 * `pageSize` items whatever `MaxResults` asks (Organizations "might return fewer results than the maximum").
 *
 * Who may call (https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListParents.html):
 * - no organisation, or a caller whose account is not in it → `AWSOrganizationsNotInUseException`;
 * - DescribeOrganization: any account of the organisation;
 * - the List* calls: the management account or a delegated administrator, else `AccessDeniedException`.
 * Unknown ids: `ParentNotFoundException`, `ChildNotFoundException`; malformed ones, a bad token or an out-of-range
 * MaxResults: `InvalidInputException` with its `Reason`.
 */
import { z } from 'zod';
import {
  type AwsJsonOperation,
  type AwsJsonService,
  awsJsonActionOf,
  type JsonObject,
  serveAwsJson,
} from '../aws-json.ts';
import type { SandboxClock } from '../clock.ts';
import {
  type ControlRequest,
  type ControlResult,
  type SandboxRequest,
  type SandboxResponse,
  type ServiceEmulator,
  ServiceError,
} from '../service.ts';
import {
  buildOrganization,
  ORGANIZATIONAL_UNIT_ID_PATTERN,
  type OrgAccount,
  type Organization,
  organizationIds,
  organizationTree,
  PARENT_ID_PATTERN,
  type ScenarioOrganizationInput,
  ScenarioOrganizationSchema,
} from './scenario.ts';

const ACCOUNT_ID = /^\d{12}$/;
/** Organizations' MaxResults bounds, for every List* call. */
const MAX_RESULTS = { min: 1, max: 20 } as const;

class OrganizationsError extends ServiceError {
  override readonly name = 'OrganizationsError';
  readonly reason: string | undefined;

  constructor(code: string, message: string, options: { status?: number; reason?: string } = {}) {
    super(code, message, options.status ?? 400);
    this.reason = options.reason;
  }
}

const ORGANIZATIONS: AwsJsonService<OrganizationsError> = {
  targetPrefix: 'AWSOrganizationsV20161128.',
  version: '1.1',
  title: 'Organizations',
  errors: OrganizationsError,
  // Organizations writes `Message` (capital M) and, for InvalidInputException, the `Reason`.
  errorDocument: (error) => ({
    __type: error.code,
    Message: error.message,
    ...(error.reason === undefined ? {} : { Reason: error.reason }),
  }),
};

const notInUse = () =>
  new OrganizationsError(
    'AWSOrganizationsNotInUseException',
    'Your account is not a member of an organization. To make this request, you must use the credentials of an account that belongs to an organization.',
  );
const accessDenied = () =>
  new OrganizationsError(
    'AccessDeniedException',
    "You don't have permissions to access this resource. This operation can be called only from the organization's management account or by a member account that is a delegated administrator.",
  );
const invalidInput = (reason: string, message: string) =>
  new OrganizationsError('InvalidInputException', message, { reason });

export interface OrganizationsEmulatorOptions {
  /** The organisation (a scenario's `organization:` section); absent: no account is in one. */
  readonly organization?: ScenarioOrganizationInput | undefined;
  /** The most items one page holds, whatever MaxResults asks; default 20. */
  readonly pageSize?: number;
  readonly clock?: Pick<SandboxClock, 'now'>;
}

type Body = JsonObject;

export class OrganizationsEmulator implements ServiceEmulator {
  readonly signingName = 'organizations';
  readonly protocol = 'json' as const;
  readonly throttlingCode = 'TooManyRequestsException';

  private organization: Organization | undefined;
  private readonly pageSize: number;
  private readonly clock: Pick<SandboxClock, 'now'>;
  /** When the organisation was loaded: every account's JoinedTimestamp. */
  private joinedAt = 0;

  private readonly operations: Readonly<Record<string, AwsJsonOperation>> = {
    DescribeOrganization: (_body, { accountId: caller }) => {
      const org = this.memberOf(caller);
      return {
        Organization: {
          Id: org.id,
          Arn: this.arn(org, `organization/${org.id}`),
          FeatureSet: 'ALL',
          MasterAccountArn: this.accountArn(org, org.managementAccountId),
          MasterAccountId: org.managementAccountId,
          MasterAccountEmail: org.accounts.get(org.managementAccountId)?.email,
          AvailablePolicyTypes: [],
        },
      };
    },
    ListRoots: (body, { accountId: caller }) => {
      const org = this.reader(caller);
      const roots = [
        {
          Id: org.root.id,
          Arn: this.arn(org, `root/${org.id}/${org.root.id}`),
          Name: org.root.name,
          PolicyTypes: [],
        },
      ];
      return this.page('ListRoots', '', roots, body, 'Roots');
    },
    ListOrganizationalUnitsForParent: (body, { accountId: caller }) => {
      const org = this.reader(caller);
      const parentId = this.parentIdOf(org, body.ParentId);
      const ous = [...org.organizationalUnits.values()]
        .filter((ou) => ou.parentId === parentId)
        .map((ou) => ({ Id: ou.id, Arn: this.arn(org, `ou/${org.id}/${ou.id}`), Name: ou.name }));
      return this.page('ListOrganizationalUnitsForParent', parentId, ous, body, 'OrganizationalUnits');
    },
    ListAccountsForParent: (body, { accountId: caller }) => {
      const org = this.reader(caller);
      const parentId = this.parentIdOf(org, body.ParentId);
      const accounts = [...org.accounts.values()]
        .filter((a) => a.parentId === parentId)
        .map((a) => this.accountView(org, a));
      return this.page('ListAccountsForParent', parentId, accounts, body, 'Accounts');
    },
    ListAccounts: (body, { accountId: caller }) => {
      const org = this.reader(caller);
      const accounts = [...org.accounts.values()].map((a) => this.accountView(org, a));
      return this.page('ListAccounts', '', accounts, body, 'Accounts');
    },
    ListChildren: (body, { accountId: caller }) => {
      const org = this.reader(caller);
      const parentId = this.parentIdOf(org, body.ParentId);
      const type = body.ChildType;
      if (type !== 'ACCOUNT' && type !== 'ORGANIZATIONAL_UNIT') {
        throw invalidInput(
          type === undefined || type === null ? 'INPUT_REQUIRED' : 'INVALID_ENUM',
          'ChildType must be ACCOUNT or ORGANIZATIONAL_UNIT.',
        );
      }
      const children =
        type === 'ACCOUNT'
          ? [...org.accounts.values()].filter((a) => a.parentId === parentId)
          : [...org.organizationalUnits.values()].filter((ou) => ou.parentId === parentId);
      return this.page(
        `ListChildren:${type}`,
        parentId,
        children.map((c) => ({ Id: c.id, Type: type })),
        body,
        'Children',
      );
    },
    ListParents: (body, { accountId: caller }) => {
      const org = this.reader(caller);
      const childId = body.ChildId;
      if (typeof childId !== 'string') throw invalidInput('INPUT_REQUIRED', 'ChildId is required.');
      if (!ACCOUNT_ID.test(childId) && !ORGANIZATIONAL_UNIT_ID_PATTERN.test(childId)) {
        throw invalidInput(
          'INVALID_PATTERN',
          'ChildId must be an account id (12 digits) or an OU id (ou-xxxx-yyyyyyyy); a root has no parent.',
        );
      }
      const parentId = org.accounts.get(childId)?.parentId ?? org.organizationalUnits.get(childId)?.parentId;
      if (parentId === undefined) {
        throw new OrganizationsError(
          'ChildNotFoundException',
          "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.",
        );
      }
      const parents = [{ Id: parentId, Type: parentId === org.root.id ? 'ROOT' : 'ORGANIZATIONAL_UNIT' }];
      return this.page('ListParents', childId, parents, body, 'Parents');
    },
  };

  constructor(options: OrganizationsEmulatorOptions = {}) {
    this.pageSize = options.pageSize ?? MAX_RESULTS.max;
    this.clock = options.clock ?? { now: () => Date.now() };
    this.load(options.organization);
  }

  /** Replace the organisation (undefined: none); returns the name → id map (`root`, `workloads/sandbox`). */
  load(organization: ScenarioOrganizationInput | undefined): Record<string, string> {
    this.organization = organization === undefined ? undefined : buildOrganization(organization);
    this.joinedAt = this.clock.now();
    return this.ids;
  }

  /** Name → id of the loaded organisation; empty without one. */
  get ids(): Record<string, string> {
    return this.organization ? organizationIds(this.organization) : {};
  }

  /** The loaded organisation in the domain's shape, or undefined. */
  tree() {
    return this.organization ? organizationTree(this.organization) : undefined;
  }

  actionOf(req: SandboxRequest): string {
    return awsJsonActionOf(ORGANIZATIONS, req);
  }

  handle(req: SandboxRequest): Promise<SandboxResponse> {
    return serveAwsJson(ORGANIZATIONS, req, this.operations);
  }

  /** `GET /_sandbox/organizations` (the organisation and its ids), `POST` (load one), `DELETE` (none). */
  async control(req: ControlRequest): Promise<ControlResult> {
    switch (`${req.method} ${req.path}`) {
      case 'GET /':
        return { status: 200, body: { organization: this.tree() ?? null, ids: this.ids } };
      case 'POST /':
        return { status: 201, body: { ids: this.load(ScenarioOrganizationSchema.parse(req.body)) } };
      case 'DELETE /':
        this.load(undefined);
        return { status: 200, body: { organization: null } };
      default:
        return {
          status: 404,
          body: { error: `no Organizations control route ${req.method} ${req.path}` },
        };
    }
  }

  // ---- access ------------------------------------------------------------------------------------------

  private memberOf(caller: string): Organization {
    const org = this.organization;
    if (org === undefined || !org.accounts.has(caller)) throw notInUse();
    return org;
  }

  /** The List* calls: the management account or a delegated administrator. */
  private reader(caller: string): Organization {
    const org = this.memberOf(caller);
    if (caller !== org.managementAccountId && !org.delegatedAdministrators.has(caller)) throw accessDenied();
    return org;
  }

  private parentIdOf(org: Organization, value: unknown): string {
    if (typeof value !== 'string') throw invalidInput('INPUT_REQUIRED', 'ParentId is required.');
    if (!PARENT_ID_PATTERN.test(value)) {
      throw invalidInput(
        'INVALID_PATTERN',
        'ParentId must be a root id (r-xxxx) or an OU id (ou-xxxx-yyyyyyyy).',
      );
    }
    if (value !== org.root.id && !org.organizationalUnits.has(value)) {
      throw new OrganizationsError(
        'ParentNotFoundException',
        "We can't find a root or OU with the ParentId that you specified.",
      );
    }
    return value;
  }

  // ---- views and pages ---------------------------------------------------------------------------------

  private arn(org: Organization, resource: string): string {
    return `arn:aws:organizations::${org.managementAccountId}:${resource}`;
  }

  private accountArn(org: Organization, accountId: string): string {
    return this.arn(org, `account/${org.id}/${accountId}`);
  }

  private accountView(org: Organization, a: OrgAccount) {
    return {
      Id: a.id,
      Arn: this.accountArn(org, a.id),
      Email: a.email,
      Name: a.name,
      // `Status` (retired 2026-09-09) knows only three of the states.
      ...(a.state === 'ACTIVE' || a.state === 'SUSPENDED' || a.state === 'PENDING_CLOSURE'
        ? { Status: a.state }
        : {}),
      State: a.state,
      JoinedMethod: a.joinedMethod,
      // awsJson timestamps are epoch seconds.
      JoinedTimestamp: Math.floor(this.joinedAt / 1000),
    };
  }

  /**
   * One page of `items`. The token names the call and its key (the parent or child), so a token from
   * another call, another parent or another sandbox run is refused rather than misread.
   */
  private page(call: string, key: string, items: readonly unknown[], body: Body, field: string): Body {
    const max = body.MaxResults;
    if (max !== undefined && max !== null) {
      if (typeof max !== 'number' || !Number.isInteger(max) || max < MAX_RESULTS.min) {
        throw invalidInput(
          'MIN_VALUE_EXCEEDED',
          `MaxResults must be at least ${MAX_RESULTS.min}; you asked for ${String(max)}.`,
        );
      }
      if (max > MAX_RESULTS.max) {
        throw invalidInput(
          'MAX_VALUE_EXCEEDED',
          `MaxResults must be at most ${MAX_RESULTS.max}; you asked for ${max}.`,
        );
      }
    }
    const offset =
      body.NextToken === undefined || body.NextToken === null ? 0 : this.offsetOf(body.NextToken, call, key);
    const size = Math.min(typeof max === 'number' ? max : this.pageSize, this.pageSize);
    const slice = items.slice(offset, offset + size);
    const next = offset + slice.length;
    return {
      [field]: slice,
      ...(next < items.length ? { NextToken: this.tokenFor(call, key, next) } : {}),
    };
  }

  private tokenFor(call: string, key: string, offset: number): string {
    return Buffer.from(JSON.stringify({ c: call, k: key, o: offset, l: this.joinedAt })).toString(
      'base64url',
    );
  }

  private offsetOf(token: unknown, call: string, key: string): number {
    const refuse = () =>
      invalidInput('INVALID_NEXT_TOKEN', 'The NextToken value is not valid for this request.');
    if (typeof token !== 'string') throw refuse();
    const parsed = TokenSchema.safeParse(
      (() => {
        try {
          return JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
        } catch {
          return undefined;
        }
      })(),
    );
    if (
      !parsed.success ||
      parsed.data.c !== call ||
      parsed.data.k !== key ||
      parsed.data.l !== this.joinedAt
    ) {
      throw refuse();
    }
    return parsed.data.o;
  }
}

const TokenSchema = z.object({ c: z.string(), k: z.string(), o: z.number().int().min(0), l: z.number() });

/** A service factory for `startSandboxServer({ services: [organizations({ organization })] })`, on the sandbox clock. */
export function organizations(
  options: Omit<OrganizationsEmulatorOptions, 'clock'> = {},
): (context: { clock: SandboxClock }) => OrganizationsEmulator {
  return (context) => new OrganizationsEmulator({ ...options, clock: context.clock });
}
