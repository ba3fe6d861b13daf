/**
 * ASL definitions as the local runner sees them.
 *
 * - `${Name}` substitutions are applied to every string of the definition, exactly like CDK
 *   `DefinitionSubstitutions` (CloudFormation `AWS::StepFunctions::StateMachine.DefinitionSubstitutions`).
 * - Every Task state (top level, inside Map `ItemProcessor`/`Iterator`, inside Parallel `Branches`) is
 *   described by a `TaskSpec`: which local handler it invokes and how long it may take.
 * - The definition handed to aws-local-stepfunctions is a rewritten copy (`prepareRuntimeDefinition`):
 *   durations divided by the speed factor, and task timeouts owned by the runner (see below).
 *
 * Why the runner owns task timeouts: aws-local-stepfunctions 3.0.0 gives a Task without `TimeoutSeconds` a
 * 60 s timeout (AWS has none), and resolves `TimeoutSecondsPath` against the *effective* input (after
 * `Parameters`), so `"TimeoutSecondsPath": "$.approvalTimeoutSeconds"` on a `lambda:invoke` task would look
 * for the field inside `{FunctionName, Payload}`. The runner resolves `TimeoutSecondsPath` (and
 * `HeartbeatSecondsPath`) against the state input after `InputPath`, before `Parameters`; to see that input
 * from a local handler, such a Task's `Parameters` are wrapped as
 * `{ "<EFFECTIVE_KEY>": <Parameters>, "<STATE_INPUT_KEY>.$": "$" }` and unwrapped again by the runner.
 * https://states-language.net/spec.html#task-state
 */
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** A definition the runner cannot accept; the API answers it as `InvalidDefinition`. */
export class DefinitionError extends Error {
  override readonly name = 'DefinitionError';
}

/** Keys of the wrapped `Parameters` (see the module comment). */
export const EFFECTIVE_INPUT_KEY = '__sandboxEffectiveInput';
export const STATE_INPUT_KEY = '__sandboxStateInput';

/** Node's `setTimeout` cannot wait longer than 2^31-1 ms (about 24.8 days); longer timeouts are capped. */
export const MAX_TIMER_MS = 2_147_483_647;

export const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
export const LAMBDA_INVOKE_WAIT = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
const LAMBDA_FUNCTION_ARN =
  /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(?::[A-Za-z0-9$_-]+)?$/;
const SERVICE_INTEGRATION = /^arn:aws[a-z-]*:states:::([a-z0-9-]+):([A-Za-z0-9.:_-]+)$/;

/** What a Task state invokes and how long it may run, read from the (substituted) definition. */
export interface TaskSpec {
  readonly stateName: string;
  readonly resource: string;
  /**
   * `lambda`: Resource is a function ARN, the result is the function's return value.
   * `lambda-invoke`: the optimized integration; the result is `{ Payload, StatusCode, ... }`.
   * `other`: any other resource, bound to a handler by its Resource ARN.
   */
  readonly kind: 'lambda' | 'lambda-invoke' | 'other';
  /** `.waitForTaskToken`: the result is what `SendTaskSuccess` sends. */
  readonly waitForTaskToken: boolean;
  /** The handler key known from the definition; undefined when `FunctionName.$` makes it dynamic. */
  readonly handlerKey: string | undefined;
  readonly timeoutSeconds: number | undefined;
  readonly timeoutSecondsPath: string | undefined;
  readonly heartbeatSeconds: number | undefined;
  readonly heartbeatSecondsPath: string | undefined;
  /** True when `Parameters` are wrapped to expose the state input (a `...Path` timeout needs it). */
  readonly wrapsStateInput: boolean;
}

export function parseDefinition(definition: string | object): JsonObject {
  let parsed: unknown;
  if (typeof definition === 'string') {
    try {
      parsed = JSON.parse(definition);
    } catch (error) {
      throw new DefinitionError(
        `The definition is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  } else {
    parsed = structuredClone(definition);
  }
  if (!isObject(parsed)) {
    throw new DefinitionError('The definition must be a JSON object');
  }
  if (parsed.QueryLanguage === 'JSONata') {
    // aws-local-stepfunctions ignores JSONata silently; refuse rather than run something else.
    throw new DefinitionError('QueryLanguage JSONata is not supported by the local runner (JSONPath only)');
  }
  return parsed;
}

const SUBSTITUTION = /\$\{([^}]+)\}/g;

/** Replaces `${Name}` in every string value; a name with no value is an error (CDK would deploy it broken). */
export function applySubstitutions(
  definition: JsonObject,
  substitutions: Readonly<Record<string, string>>,
): JsonObject {
  const missing = new Set<string>();
  const visit = (value: Json): Json => {
    if (typeof value === 'string') {
      return value.replace(SUBSTITUTION, (whole, name: string) => {
        const replacement = substitutions[name];
        if (replacement === undefined) {
          missing.add(name);
          return whole;
        }
        return replacement;
      });
    }
    if (Array.isArray(value)) {
      return value.map(visit);
    }
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v)]));
    }
    return value;
  };
  const result = visit(definition) as JsonObject;
  if (missing.size > 0) {
    throw new DefinitionError(
      `No value for substitution(s): ${[...missing].map((n) => `\${${n}}`).join(', ')}`,
    );
  }
  return result;
}

/** Validates with aws-local-stepfunctions' own validator (asl-validator: schema, ARNs, paths). */
export function validateDefinition(definition: JsonObject): void {
  try {
    new StateMachine(definition as unknown as StateMachineDefinition);
  } catch (error) {
    throw new DefinitionError(error instanceof Error ? error.message : String(error));
  }
}

/** Every state of the definition with its name, nested Map and Parallel states included. */
export function* walkStates(definition: JsonObject): Generator<[string, JsonObject]> {
  const states = definition.States;
  if (!isObject(states)) {
    return;
  }
  for (const [name, state] of Object.entries(states)) {
    if (!isObject(state)) {
      continue;
    }
    yield [name, state];
    const processor = state.ItemProcessor ?? state.Iterator;
    if (isObject(processor)) {
      yield* walkStates(processor);
    }
    if (Array.isArray(state.Branches)) {
      for (const branch of state.Branches) {
        if (isObject(branch)) {
          yield* walkStates(branch);
        }
      }
    }
  }
}

export function collectTasks(definition: JsonObject): TaskSpec[] {
  const tasks: TaskSpec[] = [];
  for (const [stateName, state] of walkStates(definition)) {
    if (state.Type === 'Task') {
      tasks.push(taskSpec(stateName, state));
    }
  }
  return tasks;
}

function taskSpec(stateName: string, state: JsonObject): TaskSpec {
  const resource = typeof state.Resource === 'string' ? state.Resource : '';
  const waitForTaskToken = resource.endsWith('.waitForTaskToken');
  const timeoutSecondsPath = optionalString(state.TimeoutSecondsPath);
  const heartbeatSecondsPath = optionalString(state.HeartbeatSecondsPath);
  const base = {
    stateName,
    resource,
    waitForTaskToken,
    timeoutSeconds: optionalNumber(state.TimeoutSeconds),
    timeoutSecondsPath,
    heartbeatSeconds: optionalNumber(state.HeartbeatSeconds),
    heartbeatSecondsPath,
    wrapsStateInput: timeoutSecondsPath !== undefined || heartbeatSecondsPath !== undefined,
  };
  if (resource === LAMBDA_INVOKE || resource === LAMBDA_INVOKE_WAIT) {
    const parameters = isObject(state.Parameters) ? state.Parameters : {};
    return { ...base, kind: 'lambda-invoke', handlerKey: optionalString(parameters.FunctionName) };
  }
  if (LAMBDA_FUNCTION_ARN.test(resource)) {
    return { ...base, kind: 'lambda', handlerKey: resource };
  }
  return { ...base, kind: 'other', handlerKey: resource.replace(/\.waitForTaskToken$/, '') };
}

/** `resourceType`/`resource` as Step Functions history events name a service integration. */
export function integrationOf(resource: string): { resourceType: string; resource: string } {
  const match = SERVICE_INTEGRATION.exec(resource);
  return match === null
    ? { resourceType: 'lambda', resource }
    : { resourceType: match[1] ?? '', resource: match[2] ?? '' };
}

/**
 * The copy aws-local-stepfunctions runs: `Wait.Seconds`, retry intervals, `MaxDelaySeconds` and the
 * execution `TimeoutSeconds` divided by `speed`; Task timeouts removed (the runner sets each invocation's
 * timeout on the returned Task state object, see `LocalRunner`); `Parameters` wrapped where needed.
 * Returns the runtime definition and each Task's runtime state object by name.
 */
export function prepareRuntimeDefinition(
  definition: JsonObject,
  speed: number,
): { definition: JsonObject; taskStates: Map<string, JsonObject> } {
  const runtime = structuredClone(definition);
  const taskStates = new Map<string, JsonObject>();
  const scale = (seconds: number) => Math.min(seconds / speed, MAX_TIMER_MS / 1000);
  if (typeof runtime.TimeoutSeconds === 'number') {
    runtime.TimeoutSeconds = scale(runtime.TimeoutSeconds);
  }
  for (const [name, state] of walkStates(runtime)) {
    if (state.Type === 'Wait' && typeof state.Seconds === 'number') {
      state.Seconds = scale(state.Seconds);
    }
    if (Array.isArray(state.Retry)) {
      for (const retrier of state.Retry) {
        if (isObject(retrier)) {
          retrier.IntervalSeconds = scale(
            typeof retrier.IntervalSeconds === 'number' ? retrier.IntervalSeconds : 1,
          );
          if (typeof retrier.MaxDelaySeconds === 'number') {
            retrier.MaxDelaySeconds = scale(retrier.MaxDelaySeconds);
          }
        }
      }
    }
    if (state.Type === 'Task') {
      const wraps = state.TimeoutSecondsPath !== undefined || state.HeartbeatSecondsPath !== undefined;
      if (wraps) {
        const effective: JsonObject =
          state.Parameters === undefined
            ? { [`${EFFECTIVE_INPUT_KEY}.$`]: '$' }
            : { [EFFECTIVE_INPUT_KEY]: state.Parameters };
        state.Parameters = { ...effective, [`${STATE_INPUT_KEY}.$`]: '$' };
      }
      delete state.TimeoutSecondsPath;
      delete state.HeartbeatSeconds;
      delete state.HeartbeatSecondsPath;
      state.TimeoutSeconds = MAX_TIMER_MS / 1000;
      taskStates.set(name, state);
    }
  }
  return { definition: runtime, taskStates };
}

/**
 * Resolves an ASL Reference Path (`$.a.b`, `$['a'][0]`, `$$.Execution.Input.x`) against the state input
 * (`$`) or the context object (`$$`). Undefined when a step is missing.
 * https://states-language.net/spec.html#ref-paths
 */
export function resolveReferencePath(path: string, input: Json, context: Json): Json | undefined {
  let current: Json | undefined;
  let rest: string;
  if (path.startsWith('$$')) {
    current = context;
    rest = path.slice(2);
  } else if (path.startsWith('$')) {
    current = input;
    rest = path.slice(1);
  } else {
    throw new DefinitionError(`"${path}" is not a reference path`);
  }
  const step = /^(?:\.([^.[\]]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\])/;
  while (rest.length > 0) {
    const match = step.exec(rest);
    if (match === null) {
      throw new DefinitionError(`"${path}" is not a reference path`);
    }
    rest = rest.slice(match[0].length);
    const index = match[2];
    if (index !== undefined) {
      current = Array.isArray(current) ? current[Number(index)] : undefined;
    } else {
      const key = match[1] ?? match[3] ?? match[4] ?? '';
      current = isObject(current) ? current[key] : undefined;
    }
    if (current === undefined) {
      return undefined;
    }
  }
  return current;
}

export function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function optionalString(value: Json | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function optionalNumber(value: Json | undefined): number | undefined {
  return typeof value === 'number' ? value : undefined;
}
