/**
 * The hub's half of event delivery: a statement on the hub's default event bus that lets the member
 * accounts' forwarding rules (./event-forwarder.ts) put events on it, and only that (`events:PutEvents` on
 * this bus). Either the accounts by id, or every account of an AWS Organization (`aws:PrincipalOrgID`), or
 * both. The hub's rules match events of any account (../event-patterns.ts), so admitting the account is
 * all that is needed for its changes to start the loop.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-perms.html
 */
import { Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface MemberEventAccessProps {
  /** The member accounts, 12 digits each. @default - none by id */
  readonly memberAccountIds?: readonly string[];
  /** The AWS Organization whose accounts may forward, `o-…`. @default - none */
  readonly organizationId?: string;
}

const ACCOUNT_ID = /^\d{12}$/;
const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;

/** The default bus's policy is shared by the whole account: vecguard's statements are named as its own. */
const MEMBER_ACCOUNTS_STATEMENT_ID = 'vecguard-member-accounts';
const ORGANIZATION_STATEMENT_ID = 'vecguard-organization';

export class MemberEventAccess extends Construct {
  constructor(scope: Construct, id: string, props: MemberEventAccessProps) {
    super(scope, id);
    const accounts = [...new Set(props.memberAccountIds ?? [])].sort();
    const bad = accounts.filter((a) => !ACCOUNT_ID.test(a));
    if (bad.length > 0) {
      throw new Error(
        `memberAccountIds ${bad.map((a) => `"${a}"`).join(', ')} ${bad.length === 1 ? 'is not an AWS account id' : 'are not AWS account ids'}: give each member account's 12 digits, e.g. 222222222222,333333333333`,
      );
    }
    if (props.organizationId !== undefined && !ORGANIZATION_ID.test(props.organizationId)) {
      throw new Error(
        `organizationId "${props.organizationId}" is not an AWS Organizations id: give o- and 10–32 lowercase letters or digits, e.g. o-a1b2c3d4e5`,
      );
    }
    if (accounts.length === 0 && props.organizationId === undefined) {
      throw new Error(
        'MemberEventAccess needs memberAccountIds or organizationId: without either, no member account forwards events',
      );
    }

    const busArn = Stack.of(this).formatArn({
      service: 'events',
      resource: 'event-bus',
      resourceName: 'default',
    });
    const admit = (id: string, statementId: string, principals: iam.IPrincipal[]) =>
      new events.CfnEventBusPolicy(this, id, {
        eventBusName: 'default',
        statementId,
        statement: new iam.PolicyStatement({
          sid: statementId,
          principals,
          actions: ['events:PutEvents'],
          resources: [busArn],
        }).toStatementJson(),
      });
    if (accounts.length > 0) {
      admit(
        'MemberAccounts',
        MEMBER_ACCOUNTS_STATEMENT_ID,
        accounts.map((account) => new iam.AccountPrincipal(account)),
      );
    }
    if (props.organizationId !== undefined) {
      admit('Organization', ORGANIZATION_STATEMENT_ID, [new iam.OrganizationPrincipal(props.organizationId)]);
    }
  }
}
