/**
 * The state machines a runner knows: ASL with `${Name}` substitutions applied, validated, rewritten for the
 * runner's speed (definition.ts) and compiled once into an aws-local-stepfunctions `StateMachine`.
 * Registration is idempotent for the same definition and role, as CreateStateMachine is.
 */
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import {
  applySubstitutions,
  collectTasks,
  DefinitionError,
  type JsonObject,
  parseDefinition,
  prepareRuntimeDefinition,
  type TaskSpec,
  validateDefinition,
} from './definition.ts';
import { StatesApiError } from './errors.ts';

/** Step Functions' rule for state machine and execution names. */
export const NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\p{Cc}]{1,80}$/u;

export interface StateMachineRegistration {
  readonly name: string;
  /** ASL (JSONPath), as a JSON string or an object. */
  readonly definition: string | object;
  /** `${Name}` → value, like CDK `DefinitionSubstitutions`. */
  readonly substitutions?: Readonly<Record<string, string>>;
  readonly accountId?: string;
  readonly region?: string;
  readonly roleArn?: string;
  readonly type?: 'STANDARD' | 'EXPRESS';
}

export interface RegisteredStateMachine {
  readonly arn: string;
  readonly name: string;
  readonly accountId: string;
  readonly region: string;
  readonly roleArn: string;
  readonly type: 'STANDARD' | 'EXPRESS';
  /** Sandbox-clock epoch ms. */
  readonly creationDate: number;
  /** The definition after substitutions, as JSON text. */
  readonly definition: string;
  readonly tasks: readonly TaskSpec[];
}

/** A registered state machine with what running it needs. */
export interface MachineRecord extends RegisteredStateMachine {
  readonly machine: StateMachine;
  readonly specs: ReadonlyMap<string, TaskSpec>;
  /** The runtime definition's Task states, whose `TimeoutSeconds` the runner sets per invocation. */
  readonly taskStates: ReadonlyMap<string, JsonObject>;
}

export interface StateMachinesParts {
  readonly clock: { now(): number };
  readonly speed: number;
  /** Where a registration without its own goes. */
  readonly accountId: string;
  readonly region: string;
}

export class StateMachines {
  private readonly byArn = new Map<string, MachineRecord>();
  private readonly parts: StateMachinesParts;

  constructor(parts: StateMachinesParts) {
    this.parts = parts;
  }

  register(registration: StateMachineRegistration): RegisteredStateMachine {
    const accountId = registration.accountId ?? this.parts.accountId;
    const region = registration.region ?? this.parts.region;
    if (!NAME.test(registration.name)) {
      throw new StatesApiError('InvalidName', `Invalid Name: '${registration.name}'`);
    }
    let definition: JsonObject;
    try {
      definition = applySubstitutions(
        parseDefinition(registration.definition),
        registration.substitutions ?? {},
      );
      validateDefinition(definition);
    } catch (error) {
      if (error instanceof DefinitionError) {
        throw new StatesApiError('InvalidDefinition', `Invalid State Machine Definition: '${error.message}'`);
      }
      throw error;
    }
    const arn = `arn:aws:states:${region}:${accountId}:stateMachine:${registration.name}`;
    const text = JSON.stringify(definition);
    const roleArn =
      registration.roleArn ?? `arn:aws:iam::${accountId}:role/${registration.name}-sandbox-role`;
    const existing = this.byArn.get(arn);
    if (existing !== undefined) {
      if (existing.definition === text && existing.roleArn === roleArn) {
        return publicMachine(existing);
      }
      throw new StatesApiError('StateMachineAlreadyExists', `State Machine Already Exists: '${arn}'`);
    }
    const runtime = prepareRuntimeDefinition(definition, this.parts.speed);
    const tasks = collectTasks(definition);
    const record: MachineRecord = {
      arn,
      name: registration.name,
      accountId,
      region,
      roleArn,
      type: registration.type ?? 'STANDARD',
      creationDate: this.parts.clock.now(),
      definition: text,
      tasks,
      // Validated above, before the rewrite (whose fractional seconds the schema would refuse).
      machine: new StateMachine(runtime.definition as unknown as StateMachineDefinition, {
        validationOptions: { noValidate: true },
      }),
      specs: new Map(tasks.map((task) => [task.stateName, task])),
      taskStates: runtime.taskStates,
    };
    this.byArn.set(arn, record);
    return publicMachine(record);
  }

  get(arn: string): RegisteredStateMachine | undefined {
    const record = this.byArn.get(arn);
    return record === undefined ? undefined : publicMachine(record);
  }

  list(): RegisteredStateMachine[] {
    return [...this.byArn.values()].map(publicMachine);
  }

  /** The machine to run; `StateMachineDoesNotExist` for an ARN it does not hold. */
  record(arn: string): MachineRecord {
    const machine = this.byArn.get(arn);
    if (machine === undefined) {
      throw new StatesApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    }
    return machine;
  }
}

function publicMachine(record: MachineRecord): RegisteredStateMachine {
  const { arn, name, accountId, region, roleArn, type, creationDate, definition, tasks } = record;
  return { arn, name, accountId, region, roleArn, type, creationDate, definition, tasks };
}
