/**
 * The hub's safety properties, asserted on the synthesized template (bundling skipped: no esbuild runs).
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { grantedPermissions } from '../../functions/adapters/actions/registry.ts';
import { EVENT_BUFFER } from '../../functions/domain/scope-lease.ts';
import { CLOUDTRAIL_CALLS } from '../../functions/domain/triggers.ts';
import { ASL_FILE, placeholdersOf } from '../../infra/constructs/enforcement-loop.ts';
import { CONFIG_RESOURCE_TYPES } from '../../infra/constructs/event-triggers.ts';
import { HubStack, type HubStackProps } from '../../infra/hub-stack.ts';
import { EC2_READ_ACTIONS, ORGANIZATIONS_READ_ACTIONS } from '../../infra/permissions.ts';
import { LOOP_FUNCTIONS } from '../../local/loop.ts';

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };
type Statement = {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown> | undefined>;
};

const HANDLER_MODULES = [...Object.values(LOOP_FUNCTIONS), 'on-event', 'approver-endpoint'].sort();

function synth(props: Partial<HubStackProps> = {}): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new HubStack(app, 'Hub', {
    remediationPermissions: grantedPermissions(),
    memberRoleName: 'vecguard-member',
    ...props,
  });
  return Template.fromStack(stack);
}

const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

let template: Template;
let resources: Record<string, Resource>;

beforeAll(() => {
  template = synth();
  resources = template.toJSON().Resources as Record<string, Resource>;
});

/** Logical ids of the functions, by handler module (their description is `vecguard: <module>`). */
function functionsByModule(): Map<string, string> {
  const found = new Map<string, string>();
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::Lambda::Function') continue;
    const module = String(r.Properties.Description ?? '').replace(/^vecguard: /, '');
    found.set(module, id);
  }
  return found;
}

function roleOf(module: string): string {
  const fn = resources[functionsByModule().get(module) ?? ''];
  const role = (fn?.Properties.Role as { 'Fn::GetAtt': [string, string] } | undefined)?.['Fn::GetAtt'][0];
  if (!role) throw new Error(`no role for ${module}`);
  return role;
}

/** Every statement of the inline policies attached to a role. */
function statementsOf(roleId: string): Statement[] {
  return Object.values(resources)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        (r.Properties.Roles as { Ref: string }[]).some((ref) => ref.Ref === roleId),
    )
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

function environmentOf(module: string): Record<string, unknown> {
  const fn = resources[functionsByModule().get(module) ?? ''];
  if (!fn) throw new Error(`no function for ${module}`);
  return (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
}

/** What a role is allowed (its Deny statements left out). */
const actionsOfRole = (roleId: string) =>
  new Set(
    statementsOf(roleId)
      .filter((s) => s.Effect === 'Allow')
      .flatMap(actionsOf),
  );
const ec2ActionsOf = (module: string) =>
  [...actionsOfRole(roleOf(module))].filter((a) => a.startsWith('ec2:')).sort();

describe('state table', () => {
  it('is keyed by pk/sk strings, on demand, encrypted, recoverable to a point in time, and retained', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        TableName: 'vecguard-state',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
      }),
    });
  });
});

describe('notification topic', () => {
  it('is encrypted with a rotated customer key and refuses publishers without TLS', () => {
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NotificationsKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });
});

describe('functions', () => {
  it('one per handler module, each Node 24 on ARM64 with the configuration every handler reads', () => {
    const byModule = functionsByModule();
    expect([...byModule.keys()].sort()).toEqual(HANDLER_MODULES);
    const table = template.findResources('AWS::DynamoDB::Table');
    const topic = template.findResources('AWS::SNS::Topic');
    for (const [module, id] of byModule) {
      const p = resources[id]?.Properties ?? {};
      expect(p.Runtime, module).toBe('nodejs24.x');
      expect(p.Architectures, module).toEqual(['arm64']);
      expect(p.TracingConfig, module).toEqual({ Mode: 'Active' });
      const env = (p.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env.VECGUARD_TABLE_NAME, module).toEqual({ Ref: Object.keys(table)[0] });
      expect(env.VECGUARD_TOPIC_ARN, module).toEqual({ Ref: Object.keys(topic)[0] });
      expect(env.VECGUARD_POLICY_FILE, module).toBe('/var/task/vecguard.policy.yaml');
      expect(env.VECGUARD_DRY_RUN, module).toBeUndefined();
    }
  });

  it('on-event knows the state machine and the member role name', () => {
    const env = environmentOf('on-event');
    const machine = Object.keys(template.findResources('AWS::StepFunctions::StateMachine'))[0];
    expect(env.VECGUARD_STATE_MACHINE_ARN).toEqual({ Ref: machine });
    expect(env.VECGUARD_MEMBER_ROLE_NAME).toBe('vecguard-member');
  });

  it('Apply has time for an instance move, a reserved concurrency, and its share of EC2 rate limits', () => {
    const p = resources[functionsByModule().get('apply') ?? '']?.Properties ?? {};
    expect(p.Timeout).toBe(600);
    expect(p.ReservedConcurrentExecutions).toBe(10);
    // The Groups Map runs 10 Apply workers per scope: each takes a tenth of the buckets.
    expect((p.Environment as { Variables: Record<string, unknown> }).Variables.VECGUARD_EC2_RATE_SHARE).toBe(
      '0.1',
    );
  });

  it('dry-run, when set, reaches every function', { timeout: 30_000 }, () => {
    const t = synth({ dryRun: true });
    const fns = Object.values(t.findResources('AWS::Lambda::Function'));
    expect(fns).toHaveLength(HANDLER_MODULES.length);
    for (const fn of fns) expect(fn.Properties.Environment.Variables.VECGUARD_DRY_RUN).toBe('true');
  });

  it('every log group has a retention', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(groups.length).toBe(HANDLER_MODULES.length + 1);
    for (const g of groups) expect(g.Properties.RetentionInDays).toBeGreaterThan(0);
  });
});

describe('state machine', () => {
  const asl = readFileSync(ASL_FILE, 'utf8');

  it('substitutes every placeholder of the ASL file, each with the function LOOP_FUNCTIONS binds it to', () => {
    const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0];
    const substitutions = machine?.Properties.DefinitionSubstitutions as Record<string, unknown>;
    expect(Object.keys(substitutions).sort()).toEqual(placeholdersOf(asl));
    expect(Object.keys(substitutions).sort()).toEqual(Object.keys(LOOP_FUNCTIONS).sort());
    const byModule = functionsByModule();
    for (const [name, module] of Object.entries(LOOP_FUNCTIONS)) {
      expect(substitutions[name], name).toEqual({ 'Fn::GetAtt': [byModule.get(module), 'Arn'] });
    }
    // What CloudFormation will do with the file: nothing of the form ${…} is left.
    const deployed = asl.replace(/\$\{([^}]*)\}/g, (whole, name: string) =>
      name in substitutions ? `arn:aws:lambda:us-east-1:111111111111:function:${name}` : whole,
    );
    expect(deployed).not.toContain('${');
  });

  it('is a standard workflow with tracing and logging of every event', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
    });
  });

  it('may invoke exactly the loop functions', () => {
    const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] ?? {};
    const role = (machine.Properties.RoleArn as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    const invoke = statementsOf(role).filter((s) => actionsOf(s).includes('lambda:InvokeFunction'));
    expect(invoke).toHaveLength(1);
    const byModule = functionsByModule();
    const ids = (refs: unknown) =>
      (refs as { 'Fn::GetAtt': [string, string] }[]).map((r) => r['Fn::GetAtt'][0]).sort();
    expect(ids(invoke[0]?.Resource)).toEqual(
      Object.values(LOOP_FUNCTIONS)
        .map((m) => byModule.get(m))
        .sort(),
    );
  });
});

describe('least privilege', () => {
  it("Apply's EC2 actions are exactly the remediation registry's, none a wildcard", () => {
    const registry = grantedPermissions().filter((a) => a !== 'iam:PassRole');
    const actions = actionsOfRole(roleOf('apply'));
    expect(ec2ActionsOf('apply')).toEqual(registry.filter((a) => a.startsWith('ec2:')).sort());
    for (const a of registry) expect(actions.has(a), a).toBe(true);
    expect([...actions].filter((a) => a.includes('*'))).toEqual([]);
  });

  it('Apply passes no role when the policy names no flow-log delivery role', () => {
    expect(actionsOfRole(roleOf('apply')).has('iam:PassRole')).toBe(false);
  });

  // Report and FailureReport read EC2 back only to close the intents a stopped step left open.
  it.each(['inventory', 'poll-transitions', 'report', 'failure-report'])(
    '%s reads EC2 and changes nothing there',
    (module) => {
      const ec2 = ec2ActionsOf(module);
      expect(ec2).toEqual([...EC2_READ_ACTIONS].sort());
      expect(ec2.filter((a) => !/^ec2:(Describe|Get)/.test(a))).toEqual([]);
    },
  );

  it.each([
    'audit',
    'plan',
    'load-page',
    'publish-findings',
    'request-approval',
    'record-rejection',
    'on-event',
  ])('%s has no EC2 permission', (module) => {
    expect(ec2ActionsOf(module)).toEqual([]);
  });

  it('LoadPage and PublishFindings only read the table', () => {
    for (const module of ['load-page', 'publish-findings']) {
      const writes = [...actionsOfRole(roleOf(module))].filter((a) =>
        /^dynamodb:(Put|Update|Delete|BatchWrite)/.test(a),
      );
      expect(writes, module).toEqual([]);
    }
  });

  it('only on-event and the run-ending Report and FailureReport (follow-ups) start executions; on-event may touch only the scope leases of the table', () => {
    const starters = ['on-event', 'report', 'failure-report'];
    for (const module of HANDLER_MODULES) {
      const actions = actionsOfRole(roleOf(module));
      expect(actions.has('states:StartExecution'), module).toBe(starters.includes(module));
    }
    for (const module of ['report', 'failure-report']) {
      const start = statementsOf(roleOf(module)).filter((s) =>
        actionsOf(s).includes('states:StartExecution'),
      );
      expect(start).toEqual([
        expect.objectContaining({
          Action: 'states:StartExecution',
          Resource: {
            'Fn::Join': ['', expect.arrayContaining([':stateMachine:vecguard-enforcement-loop'])],
          },
        }),
      ]);
      expect(environmentOf(module).VECGUARD_STATE_MACHINE_ARN, module).toEqual(start[0]?.Resource);
    }
    // It may see whether a lease's run is over: the loop's executions, nothing else of Step Functions.
    const describe = statementsOf(roleOf('on-event')).filter((s) =>
      actionsOf(s).includes('states:DescribeExecution'),
    );
    expect(describe).toEqual([
      expect.objectContaining({
        Action: 'states:DescribeExecution',
        Resource: {
          'Fn::Join': ['', expect.arrayContaining([':execution:vecguard-enforcement-loop:*'])],
        },
      }),
    ]);
    for (const module of HANDLER_MODULES.filter((m) => m !== 'on-event')) {
      expect(actionsOfRole(roleOf(module)).has('states:DescribeExecution'), module).toBe(false);
    }
    const table = statementsOf(roleOf('on-event')).filter(
      (s) => s.Effect === 'Allow' && actionsOf(s).some((a) => a.startsWith('dynamodb:')),
    );
    expect(table.length).toBeGreaterThan(0);
    for (const s of table) {
      expect(s.Condition?.['ForAllValues:StringLike']).toEqual({ 'dynamodb:LeadingKeys': ['SCOPE#*'] });
    }
  });

  it('no function may read AWS Organizations when the policy targets no OU', () => {
    for (const module of HANDLER_MODULES) {
      expect(
        [...actionsOfRole(roleOf(module))].filter((a) => a.startsWith('organizations:')),
        module,
      ).toEqual([]);
    }
  });

  it('with a policy that targets OUs, on-event alone may read Organizations: the four List actions', {
    timeout: 30_000,
  }, () => {
    const t = synth({ policyFile: 'test/fixtures/policies/ou-targets.policy.yaml' });
    const all = t.toJSON().Resources as Record<string, Resource>;
    const onEventRole = Object.values(all).find(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Description === 'vecguard: on-event',
    )?.Properties.Role as { 'Fn::GetAtt': [string, string] };
    const organizationsStatements = Object.values(all)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) =>
        (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement.filter((st) =>
          actionsOf(st).some((a) => a.startsWith('organizations:')),
        ).map((st) => ({ roles: r.Properties.Roles as { Ref: string }[], st })),
      );
    expect(organizationsStatements).toHaveLength(1);
    const [{ roles, st }] = organizationsStatements as [{ roles: { Ref: string }[]; st: Statement }];
    expect(roles).toEqual([{ Ref: onEventRole['Fn::GetAtt'][0] }]);
    expect([...actionsOf(st)].sort()).toEqual([...ORGANIZATIONS_READ_ACTIONS].sort());
    expect(st).toMatchObject({ Effect: 'Allow', Resource: '*' });
  });

  it('functions that reach into a scope may assume only the member role', () => {
    for (const module of [
      'inventory',
      'publish-findings',
      'apply',
      'poll-transitions',
      'report',
      'failure-report',
    ]) {
      const assume = statementsOf(roleOf(module)).filter((s) => actionsOf(s).includes('sts:AssumeRole'));
      expect(
        assume.map((s) => s.Resource),
        module,
      ).toEqual([
        {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':role/vecguard-member'],
          ],
        },
      ]);
    }
    for (const module of ['audit', 'plan', 'load-page', 'on-event']) {
      expect(actionsOfRole(roleOf(module)).has('sts:AssumeRole'), module).toBe(false);
    }
  });

  it('without a member role name, nothing may assume a role', { timeout: 30_000 }, () => {
    const t = synth({ memberRoleName: undefined });
    const policies = JSON.stringify(t.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('ec2:DescribeVpcs');
    expect(policies).not.toContain('sts:AssumeRole');
  });

  it('function roles live under /vecguard/, which the member role trusts', () => {
    for (const module of HANDLER_MODULES) {
      expect(resources[roleOf(module)]?.Properties.Path, module).toBe('/vecguard/');
    }
  });
});

describe('approvals through the approver endpoint', () => {
  const approverStatements = () => {
    const policy = Object.values(template.findResources('AWS::IAM::ManagedPolicy'))[0];
    expect(policy?.Properties.ManagedPolicyName).toBe('vecguard-approver');
    return policy?.Properties.PolicyDocument.Statement as Statement[];
  };
  const endpointId = () => functionsByModule().get('approver-endpoint') ?? '';

  it('the approver policy may only call the endpoint through its AWS_IAM function URL', () => {
    const endpoint = { 'Fn::GetAtt': [endpointId(), 'Arn'] };
    expect(approverStatements()).toEqual([
      {
        Sid: 'CallApproverUrl',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunctionUrl',
        Resource: endpoint,
        Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
      },
      {
        Sid: 'InvokeOnlyThroughUrl',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: endpoint,
        Condition: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } },
      },
    ]);
  });

  it('the approver policy grants nothing on the table or Step Functions: no forged or flipped record, no token', () => {
    const actions = approverStatements().flatMap(actionsOf);
    expect(actions.filter((a) => a.startsWith('dynamodb:') || a.startsWith('states:'))).toEqual([]);
  });

  it('the endpoint has a function URL with AWS_IAM auth, no resource policy for other accounts, and a stack output', () => {
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'AWS_IAM',
      TargetFunctionArn: { 'Fn::GetAtt': [endpointId(), 'Arn'] },
    });
    expect(Object.keys(template.findResources('AWS::Lambda::Url'))).toHaveLength(1);
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).filter((p) =>
      JSON.stringify(p.Properties.FunctionName).includes(endpointId()),
    );
    expect(permissions).toEqual([]);
    const url = Object.keys(template.findResources('AWS::Lambda::Url'))[0];
    template.hasOutput('ApproverUrl', { Value: { 'Fn::GetAtt': [url, 'FunctionUrl'] } });
  });

  it('the endpoint decides approval items only, lists them, and answers this state machine only', () => {
    const machine = Object.keys(template.findResources('AWS::StepFunctions::StateMachine'))[0];
    const statements = Object.values(resources)
      .filter(
        (r) =>
          r.Type === 'AWS::IAM::Policy' &&
          (r.Properties.Roles as { Ref: string }[]).some((x) => x.Ref === roleOf('approver-endpoint')),
      )
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    const table = Object.keys(template.findResources('AWS::DynamoDB::Table'))[0];
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Sid: 'TableRead',
          Resource: { 'Fn::GetAtt': [table, 'Arn'] },
          Condition: expect.objectContaining({
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['APPROVAL#*'] },
          }),
        }),
        expect.objectContaining({
          Sid: 'TableUpdate',
          Action: 'dynamodb:UpdateItem',
          Resource: { 'Fn::GetAtt': [table, 'Arn'] },
          Condition: expect.objectContaining({
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['APPROVAL#*'] },
          }),
        }),
        expect.objectContaining({ Action: 'dynamodb:Scan', Resource: { 'Fn::GetAtt': [table, 'Arn'] } }),
        expect.objectContaining({
          Action: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
          Resource: { Ref: machine },
        }),
      ]),
    );
    // What it may do (the Deny that keeps the audit log append-only names Put/Delete too).
    const actions = statements.filter((s) => s.Effect !== 'Deny').flatMap(actionsOf);
    expect(actions.filter((a) => /^dynamodb:(Put|Delete|BatchWrite)/.test(a))).toEqual([]);
    expect(
      actions.filter((a) => a.startsWith('states:') && !/^states:SendTask(Success|Failure)$/.test(a)),
    ).toEqual([]);
  });
});

describe('triggers', () => {
  /** The queues by their construct id (`Events`, `EventsDeadLetters`, `DeadLetters`). */
  const queues = () => {
    const ids = Object.keys(template.findResources('AWS::SQS::Queue'));
    const find = (prefix: string) => {
      const id = ids.find((i) => new RegExp(`^Triggers${prefix}[0-9A-F]{8}$`).test(i));
      if (!id) throw new Error(`no queue ${prefix} in ${ids.join(', ')}`);
      return id;
    };
    return { events: find('Events'), eventsDlq: find('EventsDeadLetters'), targetsDlq: find('DeadLetters') };
  };

  it('every rule targets the encrypted events queue; what EventBridge cannot deliver lands in a dead-letter queue', () => {
    const q = queues();
    expect(Object.keys(template.findResources('AWS::SQS::Queue'))).toHaveLength(3);
    for (const queue of Object.values(template.findResources('AWS::SQS::Queue'))) {
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    }
    const rules = Object.values(template.findResources('AWS::Events::Rule'));
    expect(rules).toHaveLength(4);
    for (const rule of rules) {
      expect(rule.Properties.Targets).toEqual([
        expect.objectContaining({
          Arn: { 'Fn::GetAtt': [q.events, 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [q.targetsDlq, 'Arn'] } },
        }),
      ]);
    }
    // No function is invoked by EventBridge any more: nothing bypasses the queue.
    expect(
      template.findResources('AWS::Lambda::Permission', {
        Properties: { Principal: 'events.amazonaws.com' },
      }),
    ).toEqual({});
  });

  it('the events queue has its own dead-letter queue, after a bounded number of receives, and outlives the function', () => {
    const q = queues();
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [q.eventsDlq, 'Arn'] },
        maxReceiveCount: EVENT_BUFFER.maxReceiveCount,
      },
      // Six times on-event's 60 s timeout plus the batching window (Lambda's advice for SQS sources).
      VisibilityTimeout: 6 * 60 + EVENT_BUFFER.batchingWindowSeconds,
    });
  });

  it('on-event reads the queue in batches gathered over a window, reporting failed messages one by one', () => {
    const q = queues();
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionsByModule().get('on-event') },
      EventSourceArn: { 'Fn::GetAtt': [q.events, 'Arn'] },
      BatchSize: EVENT_BUFFER.batchSize,
      MaximumBatchingWindowInSeconds: EVENT_BUFFER.batchingWindowSeconds,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(Object.keys(template.findResources('AWS::Lambda::EventSourceMapping'))).toHaveLength(1);
  });

  it('on-event may receive and delete messages of the events queue only, and send none', () => {
    const q = queues();
    const sqsStatements = statementsOf(roleOf('on-event')).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('sqs:')),
    );
    expect(sqsStatements).toHaveLength(1);
    const [statement] = sqsStatements;
    expect(statement?.Resource).toEqual({ 'Fn::GetAtt': [q.events, 'Arn'] });
    expect(actionsOf(statement as Statement).sort()).toEqual([
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
    ]);
    for (const module of HANDLER_MODULES.filter((m) => m !== 'on-event')) {
      expect(
        [...actionsOfRole(roleOf(module))].filter((a) => a.startsWith('sqs:')),
        module,
      ).toEqual([]);
    }
  });

  it('only EventBridge rules of this stack may send to the events queue', () => {
    const q = queues();
    const [policy] = Object.values(template.findResources('AWS::SQS::QueuePolicy')).filter((p) =>
      JSON.stringify(p.Properties.Queues).includes(q.events),
    );
    if (!policy) throw new Error('the events queue has no queue policy');
    const sends = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement.filter(
      (s) => s.Effect === 'Allow' && actionsOf(s).includes('sqs:SendMessage'),
    );
    expect(sends.length).toBeGreaterThan(0);
    for (const s of sends) {
      expect(s.Principal).toEqual({ Service: 'events.amazonaws.com' });
      expect(s.Condition?.ArnEquals?.['aws:SourceArn']).toBeDefined();
    }
  });

  it('the CloudTrail rule matches the successful EC2 calls the classifier acts on', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ec2'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['ec2.amazonaws.com'],
          eventName: Object.keys(CLOUDTRAIL_CALLS).sort(),
          errorCode: [{ exists: false }],
        },
      },
    });
  });

  it('the Config rule matches the resource types the classifier acts on, oversized changes included', () => {
    const types = [...CONFIG_RESOURCE_TYPES, { prefix: 'AWS::EC2::TransitGateway' }];
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        source: ['aws.config'],
        detail: Match.objectLike({
          $or: [
            { configurationItem: { resourceType: types } },
            { configurationItemSummary: { resourceType: types } },
          ],
        }),
      }),
    });
  });

  it('a schedule and the Security Hub re-scan action start the loop too', () => {
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 day)' });
    const action = Object.keys(template.findResources('AWS::SecurityHub::ActionTarget'));
    expect(action).toHaveLength(1);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.securityhub'],
        'detail-type': ['Security Hub Findings - Custom Action'],
        resources: [{ 'Fn::GetAtt': [action[0], 'ActionTargetArn'] }],
      },
    });
  });
});

describe('member accounts', () => {
  const MEMBERS = ['333333333333', '222222222222', '222222222222'];
  const ORGANIZATION = 'o-a1b2c3d4e5';
  let multi: Template;

  beforeAll(() => {
    multi = synth({
      memberAccountIds: MEMBERS,
      organizationId: ORGANIZATION,
      memberExternalId: 'vecguard-7f3a',
    });
  });

  /** The default bus of the hub, in the hub's account and Region. */
  const defaultBus = {
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':events:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        ':event-bus/default',
      ],
    ],
  };
  const busPolicies = (t: Template) =>
    Object.values(t.findResources('AWS::Events::EventBusPolicy')).map((r) => r.Properties);

  it('the CloudTrail and Config rules match events of any account, as member accounts forward them', () => {
    const patterns = Object.values(template.findResources('AWS::Events::Rule'))
      .map((r) => r.Properties.EventPattern as Record<string, unknown> | undefined)
      .filter((p) => p !== undefined);
    expect(patterns.length).toBeGreaterThanOrEqual(3);
    for (const pattern of patterns) expect(pattern).not.toHaveProperty('account');
  });

  it('a single-account hub admits no other account to its event bus', () => {
    expect(busPolicies(template)).toEqual([]);
  });

  it('admits exactly the member accounts given, only to put events on its default bus', () => {
    const byId = busPolicies(multi).find((p) => p.StatementId === 'vecguard-member-accounts');
    expect(byId).toEqual({
      EventBusName: 'default',
      StatementId: 'vecguard-member-accounts',
      Statement: {
        Sid: 'vecguard-member-accounts',
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Principal: {
          AWS: ['222222222222', '333333333333'].map((account) => ({
            'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${account}:root`]],
          })),
        },
        Resource: defaultBus,
      },
    });
  });

  it('admits every account of the organization given, by aws:PrincipalOrgID', () => {
    expect(busPolicies(multi)).toHaveLength(2);
    const byOrganization = busPolicies(multi).find((p) => p.StatementId === 'vecguard-organization');
    expect(byOrganization?.Statement).toEqual({
      Sid: 'vecguard-organization',
      Effect: 'Allow',
      Action: 'events:PutEvents',
      Principal: { AWS: '*' },
      Condition: { StringEquals: { 'aws:PrincipalOrgID': ORGANIZATION } },
      Resource: defaultBus,
    });
  });

  it('the functions that assume the member role send the external id; no other function has it', () => {
    const fns = Object.values(multi.findResources('AWS::Lambda::Function'));
    const withId = fns
      .filter((fn) => fn.Properties.Environment.Variables.VECGUARD_MEMBER_EXTERNAL_ID === 'vecguard-7f3a')
      .map((fn) => String(fn.Properties.Description).replace(/^vecguard: /, ''))
      .sort();
    expect(withId).toEqual([
      'apply',
      'failure-report',
      'inventory',
      'poll-transitions',
      'publish-findings',
      'report',
    ]);
    const withoutId = fns.filter(
      (fn) => fn.Properties.Environment.Variables.VECGUARD_MEMBER_EXTERNAL_ID === undefined,
    );
    expect(withoutId).toHaveLength(fns.length - withId.length);
    // Without one configured, the default the member stack requires too: vecguard-<hub account id>.
    expect(environmentOf('inventory').VECGUARD_MEMBER_EXTERNAL_ID).toEqual({
      'Fn::Join': ['', ['vecguard-', { Ref: 'AWS::AccountId' }]],
    });
  });

  it('refuses member accounts, an organization or an external id AWS would not take, saying what to give', () => {
    expect(() => synth({ memberAccountIds: ['222222222222', '1234'] })).toThrow(
      /memberAccountIds "1234" is not an AWS account id: give each member account's 12 digits/,
    );
    expect(() => synth({ organizationId: 'my-org' })).toThrow(
      /organizationId "my-org" is not an AWS Organizations id: give o- and 10–32/,
    );
    expect(() => synth({ memberExternalId: 'has space' })).toThrow(/memberExternalId must be 2–1224 of/);
    expect(() => synth({ memberRoleName: undefined, memberExternalId: 'vecguard-7f3a' })).toThrow(
      /memberExternalId is set but memberRoleName is not/,
    );
  });
});

describe('props are checked, with what to do', () => {
  it('a schedule that is not rate(…) or cron(…)', () => {
    expect(() => synth({ schedule: 'every day' })).toThrow(/use rate\(…\) or cron\(…\)/);
  });
  it('a policy file that does not exist', () => {
    expect(() => synth({ policyFile: 'examples/nope.yaml' })).toThrow(/does not exist; pass a path relative/);
  });
  it('a policy file that does not validate', () => {
    expect(() => synth({ policyFile: 'package.json' })).toThrow(/package\.json/);
  });
  it('remediation permissions with a wildcard or none', () => {
    expect(() => synth({ remediationPermissions: ['ec2:*'] })).toThrow(/no wildcards.*"ec2:\*"/);
    expect(() => synth({ remediationPermissions: [] })).toThrow(/allPermissions\(\)/);
  });
  it('an Apply concurrency out of range', () => {
    expect(() => synth({ applyConcurrency: 0 })).toThrow(/applyConcurrency must be an integer from 1/);
  });
  it('a member role name IAM would refuse', () => {
    expect(() => synth({ memberRoleName: 'has space' })).toThrow(/not an IAM role name/);
  });
});
