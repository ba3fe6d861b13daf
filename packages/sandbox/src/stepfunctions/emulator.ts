/**
 * Step Functions for the sandbox (awsJson1_0, `X-Amz-Target: AWSStepFunctions.<Operation>`), backed by the
 * `LocalRunner`: state machines, executions, history and task tokens. The caller of `SendTaskSuccess` /
 * `SendTaskFailure` (account and access key, as the router authenticated them) is recorded in the history
 * event the answer produces (`answeredBy`).
 *
 * Not emulated: IAM (any known key may call any operation on any ARN), versions and aliases, activities,
 * Express-workflow semantics (EXPRESS runs like STANDARD), redrive, tags, logging.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_Operations.html
 */
import {
  type AwsJsonOperation,
  type AwsJsonService,
  awsJsonActionOf,
  type JsonObject,
  serveAwsJson,
} from '../aws-json.ts';
import type { SandboxClock } from '../clock.ts';
import type { SandboxRequest, SandboxResponse, ServiceEmulator } from '../service.ts';
import type { Json } from './definition.ts';
import { StatesApiError } from './errors.ts';
import { toWireEvent } from './history.ts';
import {
  type ExecutionStatus,
  type ExecutionView,
  LocalRunner,
  type RegisteredStateMachine,
  type RunnerOptions,
  type StateMachineRegistration,
} from './runner.ts';

const STEP_FUNCTIONS: AwsJsonService<StatesApiError> = {
  targetPrefix: 'AWSStepFunctions.',
  version: '1.0',
  title: 'Step Functions',
  errors: StatesApiError,
};
const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+$/;
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/;
const STATUSES: readonly ExecutionStatus[] = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];
/** API limits from the Step Functions model. */
const MAX_OUTPUT_CHARS = 262_144;
const MAX_ERROR_CHARS = 256;
const MAX_CAUSE_CHARS = 32_768;
const MAX_TOKEN_CHARS = 2048;
const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

export interface StepFunctionsEmulatorOptions extends RunnerOptions {
  /** An existing runner; otherwise one is built from the other options. */
  readonly runner?: LocalRunner;
}

type Body = JsonObject;

export class StepFunctionsEmulator implements ServiceEmulator {
  readonly signingName = 'states';
  readonly protocol = 'json' as const;
  readonly runner: LocalRunner;

  private readonly operations: Readonly<Record<string, AwsJsonOperation>> = {
    CreateStateMachine: (body, req) => this.createStateMachine(req, body),
    DescribeStateMachine: (body) => describeStateMachine(this.machine(body)),
    ListStateMachines: () => this.listStateMachines(),
    StartExecution: (body) => this.startExecution(body),
    DescribeExecution: (body) => describeExecution(this.execution(body)),
    ListExecutions: (body) => this.listExecutions(body),
    GetExecutionHistory: (body) => this.getExecutionHistory(body),
    StopExecution: (body) => this.stopExecution(body),
    SendTaskSuccess: (body, req) => this.sendTaskSuccess(req, body),
    SendTaskFailure: (body, req) => this.sendTaskFailure(req, body),
    SendTaskHeartbeat: (body) => {
      this.runner.sendTaskHeartbeat(taskToken(body));
      return {};
    },
  };

  constructor(options: StepFunctionsEmulatorOptions = {}) {
    this.runner = options.runner ?? new LocalRunner(options);
  }

  /** Registers a state machine from ASL with `${Name}` substitutions (what CDK deploys). */
  registerStateMachine(registration: StateMachineRegistration): RegisteredStateMachine {
    return this.runner.registerStateMachine(registration);
  }

  actionOf(req: SandboxRequest): string {
    return awsJsonActionOf(STEP_FUNCTIONS, req);
  }

  handle(req: SandboxRequest): Promise<SandboxResponse> {
    return serveAwsJson(STEP_FUNCTIONS, req, this.operations);
  }

  // ---- operations ----

  private createStateMachine(req: SandboxRequest, body: Body): Body {
    const type = optionalString(body, 'type') ?? 'STANDARD';
    if (type !== 'STANDARD' && type !== 'EXPRESS') {
      throw validation(
        `Value '${type}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]`,
      );
    }
    const machine = this.runner.registerStateMachine({
      name: requiredString(body, 'name'),
      definition: requiredString(body, 'definition'),
      roleArn: requiredString(body, 'roleArn'),
      accountId: req.accountId,
      region: req.region,
      type,
    });
    return { stateMachineArn: machine.arn, creationDate: seconds(machine.creationDate) };
  }

  private listStateMachines(): Body {
    return {
      stateMachines: this.runner.stateMachines().map((m) => ({
        stateMachineArn: m.arn,
        name: m.name,
        type: m.type,
        creationDate: seconds(m.creationDate),
      })),
    };
  }

  private startExecution(body: Body): Body {
    const stateMachineArn = arn(body, 'stateMachineArn', STATE_MACHINE_ARN);
    const input = parseJson(
      optionalString(body, 'input') ?? '{}',
      'InvalidExecutionInput',
      'Invalid State Machine Execution Input',
    );
    const name = optionalString(body, 'name');
    const execution = this.runner.startExecution(stateMachineArn, {
      input,
      ...(name === undefined ? {} : { name }),
    });
    return { executionArn: execution.arn, startDate: seconds(execution.startDate) };
  }

  private listExecutions(body: Body): Body {
    const stateMachineArn = arn(body, 'stateMachineArn', STATE_MACHINE_ARN);
    this.machine(body);
    const statusFilter = optionalString(body, 'statusFilter');
    if (statusFilter !== undefined && !STATUSES.includes(statusFilter as ExecutionStatus)) {
      throw validation(
        `Value '${statusFilter}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [${STATUSES.join(', ')}]`,
      );
    }
    const executions = this.runner
      .executionsOf(stateMachineArn)
      .filter((e) => statusFilter === undefined || e.status === statusFilter);
    const { page, nextToken } = paginate(executions, body, `${stateMachineArn}|${statusFilter ?? ''}`);
    return {
      executions: page.map((e) => ({
        executionArn: e.arn,
        stateMachineArn: e.stateMachineArn,
        name: e.name,
        status: e.status,
        startDate: seconds(e.startDate),
        ...(e.stopDate === undefined ? {} : { stopDate: seconds(e.stopDate) }),
      })),
      ...(nextToken === undefined ? {} : { nextToken }),
    };
  }

  private getExecutionHistory(body: Body): Body {
    const execution = this.execution(body);
    const includeData = body.includeExecutionData !== false;
    const events = body.reverseOrder === true ? [...execution.history].reverse() : execution.history;
    const { page, nextToken } = paginate(events, body, `${execution.arn}|${body.reverseOrder === true}`);
    return {
      events: page.map((event) => toWireEvent(event, includeData)),
      ...(nextToken === undefined ? {} : { nextToken }),
    };
  }

  private stopExecution(body: Body): Body {
    const executionArn = arn(body, 'executionArn', EXECUTION_ARN);
    const error = limitedString(body, 'error', MAX_ERROR_CHARS);
    const cause = limitedString(body, 'cause', MAX_CAUSE_CHARS);
    const stopped = this.runner.stopExecution(executionArn, {
      ...(error === undefined ? {} : { error }),
      ...(cause === undefined ? {} : { cause }),
    });
    return { stopDate: seconds(stopped.stopDate ?? stopped.startDate) };
  }

  private sendTaskSuccess(req: SandboxRequest, body: Body): Body {
    const token = taskToken(body);
    const outputText = requiredString(body, 'output');
    if (outputText.length > MAX_OUTPUT_CHARS) {
      throw validation(
        `Value at 'output' failed to satisfy constraint: Member must have length less than or equal to ${MAX_OUTPUT_CHARS}`,
      );
    }
    const output = parseJson(outputText, 'InvalidOutput', 'Invalid State Machine Execution Output');
    this.runner.sendTaskSuccess(token, output, { accountId: req.accountId, accessKeyId: req.accessKeyId });
    return {};
  }

  private sendTaskFailure(req: SandboxRequest, body: Body): Body {
    const token = taskToken(body);
    const error = limitedString(body, 'error', MAX_ERROR_CHARS);
    const cause = limitedString(body, 'cause', MAX_CAUSE_CHARS);
    this.runner.sendTaskFailure(
      token,
      { ...(error === undefined ? {} : { error }), ...(cause === undefined ? {} : { cause }) },
      { accountId: req.accountId, accessKeyId: req.accessKeyId },
    );
    return {};
  }

  private machine(body: Body): RegisteredStateMachine {
    const stateMachineArn = arn(body, 'stateMachineArn', STATE_MACHINE_ARN);
    const machine = this.runner.stateMachine(stateMachineArn);
    if (machine === undefined) {
      throw new StatesApiError(
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${stateMachineArn}'`,
      );
    }
    return machine;
  }

  private execution(body: Body): ExecutionView {
    const executionArn = arn(body, 'executionArn', EXECUTION_ARN);
    const execution = this.runner.execution(executionArn);
    if (execution === undefined) {
      throw new StatesApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    }
    return execution;
  }
}

/** A service factory for `startSandboxServer({ services: [stepFunctions({ handlers, speed })] })`, on the sandbox clock. */
export function stepFunctions(
  options: Omit<StepFunctionsEmulatorOptions, 'clock'> = {},
): (context: { clock: SandboxClock; defaultRegion: string }) => StepFunctionsEmulator {
  return (context) =>
    new StepFunctionsEmulator({ region: context.defaultRegion, ...options, clock: context.clock });
}

function describeStateMachine(machine: RegisteredStateMachine): Body {
  return {
    stateMachineArn: machine.arn,
    name: machine.name,
    status: 'ACTIVE',
    definition: machine.definition,
    roleArn: machine.roleArn,
    type: machine.type,
    creationDate: seconds(machine.creationDate),
  };
}

function describeExecution(execution: ExecutionView): Body {
  return {
    executionArn: execution.arn,
    stateMachineArn: execution.stateMachineArn,
    name: execution.name,
    status: execution.status,
    startDate: seconds(execution.startDate),
    ...(execution.stopDate === undefined ? {} : { stopDate: seconds(execution.stopDate) }),
    input: JSON.stringify(execution.input),
    inputDetails: { included: true },
    ...(execution.output === undefined
      ? {}
      : { output: JSON.stringify(execution.output), outputDetails: { included: true } }),
    ...(execution.error === undefined ? {} : { error: execution.error }),
    ...(execution.cause === undefined ? {} : { cause: execution.cause }),
  };
}

/** Pages a list; the token is bound to the listing it came from (`scope`) so it cannot be replayed elsewhere. */
function paginate<T>(items: readonly T[], body: Body, scope: string): { page: T[]; nextToken?: string } {
  const maxResults = body.maxResults ?? 0;
  if (
    typeof maxResults !== 'number' ||
    !Number.isInteger(maxResults) ||
    maxResults < 0 ||
    maxResults > MAX_PAGE
  ) {
    throw validation(
      `Value '${String(maxResults)}' at 'maxResults' failed to satisfy constraint: Member must have value between 0 and ${MAX_PAGE}`,
    );
  }
  const size = maxResults === 0 ? DEFAULT_PAGE : maxResults;
  let offset = 0;
  const token = optionalString(body, 'nextToken');
  if (token !== undefined) {
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    } catch {
      decoded = undefined;
    }
    const parsed = decoded as { scope?: unknown; offset?: unknown } | undefined;
    if (parsed?.scope !== scope || typeof parsed.offset !== 'number') {
      throw new StatesApiError('InvalidToken', "Invalid Token: 'Invalid nextToken'");
    }
    offset = parsed.offset;
  }
  const page = items.slice(offset, offset + size);
  const next = offset + size;
  return next < items.length
    ? { page, nextToken: Buffer.from(JSON.stringify({ scope, offset: next })).toString('base64url') }
    : { page };
}

/** A JSON document carried as a string member (`input`, `output`); its own error code when it does not parse. */
function parseJson(text: string, code: string, what: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (error) {
    throw new StatesApiError(code, `${what}: '${error instanceof Error ? error.message : String(error)}'`);
  }
}

function seconds(epochMs: number): number {
  return epochMs / 1000;
}

function validation(detail: string): StatesApiError {
  return new StatesApiError('ValidationException', `1 validation error detected: ${detail}`);
}

function optionalString(body: Body, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'string') {
    throw new StatesApiError('SerializationException', `'${key}' must be a string`);
  }
  return value;
}

function requiredString(body: Body, key: string): string {
  const value = optionalString(body, key);
  if (value === undefined) {
    throw validation(`Value null at '${key}' failed to satisfy constraint: Member must not be null`);
  }
  return value;
}

function limitedString(body: Body, key: string, max: number): string | undefined {
  const value = optionalString(body, key);
  if (value !== undefined && value.length > max) {
    throw validation(
      `Value at '${key}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
    );
  }
  return value;
}

function arn(body: Body, key: string, pattern: RegExp): string {
  const value = requiredString(body, key);
  if (!pattern.test(value)) {
    throw new StatesApiError('InvalidArn', `Invalid Arn: '${value}'`);
  }
  return value;
}

function taskToken(body: Body): string {
  const token = requiredString(body, 'taskToken');
  if (token.length < 1 || token.length > MAX_TOKEN_CHARS) {
    throw validation(
      `Value at 'taskToken' failed to satisfy constraint: Member must have length between 1 and ${MAX_TOKEN_CHARS}`,
    );
  }
  return token;
}
