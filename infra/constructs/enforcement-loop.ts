/**
 * The enforcement loop's state machine, from the very ASL file the local runner executes
 * (statemachines/enforcement-loop.asl.json), with every `${<Id>FunctionArn}` filled by
 * `definitionSubstitutions`. Standard workflow (approvals wait up to the policy's timeout on a task token),
 * X-Ray tracing on, every event logged without execution data (payloads carry task tokens).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArnFormat, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { PROJECT_ROOT } from './vecguard-function.ts';

/** The state machine's name unless a prop says otherwise; functions that answer its tasks name it (no cycle). */
export const ENFORCEMENT_LOOP_NAME = 'vecguard-enforcement-loop';

export const ASL_FILE = join(PROJECT_ROOT, 'statemachines', 'enforcement-loop.asl.json');

/** Every `${Name}` placeholder of an ASL text, sorted and unique. */
export function placeholdersOf(asl: string): string[] {
  return [...new Set([...asl.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1] ?? ''))].sort();
}

/** The MaxConcurrency of the Map state `name`, wherever it is nested; undefined when absent. */
export function mapConcurrency(asl: string, name: string): number | undefined {
  let found: number | undefined;
  const visit = (value: unknown): void => {
    if (found !== undefined || value === null || typeof value !== 'object') return;
    const states = (value as { States?: Record<string, unknown> }).States;
    if (states) {
      const state = states[name] as { Type?: string; MaxConcurrency?: number } | undefined;
      if (state?.Type === 'Map' && typeof state.MaxConcurrency === 'number') found = state.MaxConcurrency;
    }
    for (const child of Object.values(value)) visit(child);
  };
  visit(JSON.parse(asl));
  return found;
}

export interface EnforcementLoopProps {
  /** The Task functions by substitution name (`InventoryFunctionArn` → Inventory's function). */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** @default 'vecguard-enforcement-loop' */
  readonly stateMachineName?: string;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** @default statemachines/enforcement-loop.asl.json */
  readonly definitionFile?: string;
}

export class EnforcementLoop extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: EnforcementLoopProps) {
    super(scope, id);
    const file = props.definitionFile ?? ASL_FILE;
    const wanted = placeholdersOf(readFileSync(file, 'utf8'));
    const given = Object.keys(props.functions).sort();
    const missing = wanted.filter((p) => !given.includes(p));
    const unused = given.filter((g) => !wanted.includes(g));
    if (missing.length > 0 || unused.length > 0) {
      throw new Error(
        `the functions must match the placeholders of ${file}: ${[
          missing.length > 0 ? `add ${missing.join(', ')}` : '',
          unused.length > 0 ? `remove ${unused.join(', ')} (no Task uses it)` : '',
        ]
          .filter(Boolean)
          .join('; ')}`,
      );
    }

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const stateMachineName = props.stateMachineName ?? ENFORCEMENT_LOOP_NAME;
    const stack = Stack.of(this);
    // Trusted by Step Functions only for this state machine (confused deputy: aws:SourceArn, aws:SourceAccount).
    // The ARN is formatted from the known name: the state machine's own ARN attribute would need the role first.
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnEquals: {
          'aws:SourceArn': stack.formatArn({
            service: 'states',
            resource: 'stateMachine',
            resourceName: stateMachineName,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      }),
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName,
      role,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromFile(file),
      definitionSubstitutions: Object.fromEntries(
        Object.entries(props.functions).map(([name, fn]) => [name, fn.functionArn]),
      ),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    // The Tasks invoke the unqualified ARNs, so exactly those (grantInvoke would add every version, `:*`).
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'InvokeLoopFunctions',
        actions: ['lambda:InvokeFunction'],
        resources: Object.values(props.functions).map((fn) => fn.functionArn),
      }),
    );
    Validations.of(this.stateMachine.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Tracing (xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules, GetSamplingTargets) and logging to CloudWatch Logs (logs:CreateLogDelivery and the other log-delivery actions) take no resource.',
    });
  }
}
