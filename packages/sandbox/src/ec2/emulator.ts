/**
 * The EC2 service emulator: query-protocol request in, EC2 XML out, state in an `Ec2Store`.
 *
 * Per request: parse the form with the operation's input schema, settle everything the clock has made
 * due, run the action's handler, serialize its result with the operation's output schema. Handlers throw
 * `Ec2Error`s, which become EC2 error documents. Also exposes the in-process controls tests use (failing
 * the next transition, drift, scenarios) and their `/_sandbox/ec2/...` control-API twins.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { SandboxClock } from '../clock.ts';
import { type CredentialRegistry, DEFAULT_ACCOUNT_ID } from '../credentials.ts';
import {
  ec2Operation,
  parseForm,
  QueryInputError,
  readQueryInput,
  toQueryTree,
  writeEc2Response,
} from '../query-protocol.ts';
import {
  type ControlRequest,
  type ControlResult,
  renderError,
  type SandboxRequest,
  type SandboxResponse,
  type ServiceEmulator,
} from '../service.ts';
import { isReadAction } from '../throttle.ts';
import { encryptionControlActions } from './actions/encryption-controls.ts';
import { gatewayActions } from './actions/gateways.ts';
import { instanceActions } from './actions/instances.ts';
import { transitActions } from './actions/transit.ts';
import { vpcActions } from './actions/vpcs.ts';
import type { ActionContext, ActionDefinition } from './context.ts';
import { applyDrift, type DriftChange, DriftChangeSchema } from './drift.ts';
import { type Blocker, blockingResources, EncryptionControls } from './encryption.ts';
import { dryRunSucceeded, Ec2Error } from './errors.ts';
import { Resources } from './resources.ts';
import { loadScenario, parseScenario, type ScenarioIds } from './scenario.ts';
import type { ScenarioInput } from './scenario-schema.ts';
import { type Ec2Durations, Ec2Store, type RegionState } from './store.ts';

export interface Ec2EmulatorOptions {
  /** How long asynchronous changes take (sandbox ms). */
  readonly durations?: Partial<Ec2Durations>;
  /** The estate to start with. */
  readonly scenario?: ScenarioInput;
  /** Seed of generated ids (same seed + same calls = same ids). */
  readonly idSeed?: string;
}

/** Every action the emulator answers; anything else is `InvalidAction`. */
export const EC2_ACTIONS: Readonly<Record<string, ActionDefinition>> = {
  ...vpcActions,
  ...instanceActions,
  ...gatewayActions,
  ...transitActions,
  ...encryptionControlActions,
};

const ACTION_FIELD = /(?:^|&)Action=([A-Za-z0-9]+)/;

const FailNextSchema = z.strictObject({
  accountId: z
    .string()
    .regex(/^\d{12}$/)
    .default(DEFAULT_ACCOUNT_ID),
  region: z.string().default('us-east-1'),
  vpcId: z.string(),
  message: z.string().optional(),
});

export class Ec2Emulator implements ServiceEmulator {
  readonly signingName = 'ec2';
  readonly protocol = 'ec2' as const;
  readonly authFailureCode = 'AuthFailure';
  readonly throttlingCode = 'RequestLimitExceeded';
  private readonly clock: SandboxClock;
  private readonly options: Ec2EmulatorOptions;
  private readonly credentials: CredentialRegistry | undefined;
  private current!: { store: Ec2Store; controls: EncryptionControls; resources: Resources };
  /** Name → id map of the scenarios loaded so far. */
  scenarioIds: ScenarioIds = {};

  /** `credentials`: where scenario accounts get their access keys registered. */
  constructor(clock: SandboxClock, options: Ec2EmulatorOptions = {}, credentials?: CredentialRegistry) {
    this.clock = clock;
    this.options = options;
    this.credentials = credentials;
    this.reset();
    if (options.scenario !== undefined) {
      this.loadScenario(options.scenario);
    }
  }

  get store(): Ec2Store {
    return this.current.store;
  }

  /** Empties every account and Region. */
  reset(): void {
    const store = new Ec2Store(() => this.clock.now(), this.options.durations, this.options.idSeed);
    this.current = { store, controls: new EncryptionControls(store), resources: new Resources(store) };
    this.scenarioIds = {};
  }

  /**
   * Adds a scenario's resources; returns its name → id map (see scenario.ts for the keys). Each scenario
   * account gets the access key `AKIDSANDBOX<account id>` (and its own `accessKeyId`, if any).
   */
  loadScenario(scenario: ScenarioInput): ScenarioIds {
    const parsed = parseScenario(scenario);
    const ids = loadScenario(this.current.store, this.current.controls, this.current.resources, parsed);
    for (const account of parsed.accounts) {
      this.credentials?.register(`AKIDSANDBOX${account.id}`, account.id);
      if (account.accessKeyId !== undefined) {
        this.credentials?.register(account.accessKeyId, account.id);
      }
    }
    Object.assign(this.scenarioIds, ids);
    return ids;
  }

  /** The next mode transition of this VPC's control ends in `<mode>-failed` with `message`. */
  failNextTransition(
    vpcId: string,
    message = 'Injected failure',
    accountId = DEFAULT_ACCOUNT_ID,
    region = 'us-east-1',
  ): void {
    const state = this.regionState(accountId, region);
    const control = state.vpcs.get(vpcId)?.control;
    if (control === undefined) {
      throw new Error(`no encryption control on VPC ${vpcId} in ${accountId}/${region}`);
    }
    control.failNext = message;
  }

  /** Changes state behind the product's back (see drift.ts). */
  drift(change: DriftChange): string {
    this.current.store.settle();
    return applyDrift(this.current.store, this.current.resources, change);
  }

  /** Settled state of one account + Region, for assertions. */
  regionState(accountId = DEFAULT_ACCOUNT_ID, region = 'us-east-1'): RegionState {
    this.current.store.settle();
    return this.current.store.region(accountId, region);
  }

  /** What GetVpcResourcesBlockingEncryptionEnforcement would answer now. */
  blockers(vpcId: string, accountId = DEFAULT_ACCOUNT_ID, region = 'us-east-1'): Blocker[] {
    const state = this.regionState(accountId, region);
    const vpc = state.vpcs.get(vpcId);
    if (vpc === undefined) {
      throw new Error(`no VPC ${vpcId} in ${accountId}/${region}`);
    }
    return blockingResources(this.current.store, state, vpc);
  }

  actionOf(req: SandboxRequest): string {
    return ACTION_FIELD.exec(req.body)?.[1] ?? 'Unknown';
  }

  async handle(req: SandboxRequest): Promise<SandboxResponse> {
    return this.handleSync(req);
  }

  private handleSync(req: SandboxRequest): SandboxResponse {
    const requestId = randomUUID();
    const params = parseForm(req.body);
    const actionName = params.get('Action') ?? '';
    const dryRun = params.get('DryRun') === 'true';
    const definition = Object.hasOwn(EC2_ACTIONS, actionName) ? EC2_ACTIONS[actionName] : undefined;
    const mutating = definition?.mutating ?? !isReadAction(actionName);
    const facts = { action: actionName || 'Unknown', mutating, dryRun };
    try {
      if (actionName === '') {
        throw new Ec2Error('MissingAction', 'The request must contain the parameter Action');
      }
      const operation = ec2Operation(actionName);
      if (definition === undefined || operation === undefined) {
        throw new Ec2Error('InvalidAction', `The action ${actionName} is not valid for this web service.`);
      }
      let input: Record<string, unknown>;
      try {
        input = readQueryInput(operation.input, toQueryTree(params));
      } catch (error) {
        if (error instanceof QueryInputError) {
          throw new Ec2Error('InvalidParameterValue', error.message);
        }
        throw error;
      }
      const { store, controls, resources } = this.current;
      const now = this.clock.now();
      store.settle(now);
      let committed = false;
      const ctx: ActionContext = {
        store,
        controls,
        resources,
        state: store.region(req.accountId, req.region),
        accountId: req.accountId,
        region: req.region,
        now,
        dryRun,
        commit: () => {
          if (dryRun) {
            throw dryRunSucceeded();
          }
          committed = true;
        },
      };
      const output = definition.run(ctx, input);
      if (dryRun) {
        // Reads answer a dry run after validating; a write that never reached commit() does the same.
        throw dryRunSucceeded();
      }
      if (definition.mutating && !committed) {
        throw new Error(`handler for ${actionName} changed nothing through commit()`);
      }
      return {
        status: 200,
        headers: { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId },
        body: writeEc2Response(operation, output, requestId),
        call: facts,
      };
    } catch (error) {
      const ec2Error =
        error instanceof Ec2Error
          ? error
          : new Ec2Error(
              'InternalError',
              `An internal error has occurred (${error instanceof Error ? error.message : String(error)})`,
              500,
            );
      const response = renderError('ec2', ec2Error, requestId);
      return { ...response, call: { ...facts, errorCode: ec2Error.code } };
    }
  }

  /** `/_sandbox/ec2/...`: fail-next-transition, drift, scenario, reset, blockers. */
  async control(req: ControlRequest): Promise<ControlResult> {
    switch (`${req.method} ${req.path}`) {
      case 'POST /fail-next-transition': {
        const input = FailNextSchema.parse(req.body);
        this.failNextTransition(input.vpcId, input.message, input.accountId, input.region);
        return { status: 200, body: { vpcId: input.vpcId, willFail: true } };
      }
      case 'POST /drift':
        return { status: 200, body: { id: this.drift(DriftChangeSchema.parse(req.body)) } };
      case 'POST /scenario':
        return { status: 201, body: { ids: this.loadScenario(req.body as ScenarioInput) } };
      case 'GET /scenario':
        return { status: 200, body: { ids: this.scenarioIds } };
      case 'POST /reset':
        this.reset();
        return { status: 200, body: { reset: true } };
      case 'GET /blockers': {
        const vpcId = req.query.get('vpcId') ?? '';
        return {
          status: 200,
          body: {
            blockers: this.blockers(
              vpcId,
              req.query.get('accountId') ?? DEFAULT_ACCOUNT_ID,
              req.query.get('region') ?? 'us-east-1',
            ),
          },
        };
      }
      default:
        return { status: 404, body: { error: `no EC2 control route ${req.method} ${req.path}` } };
    }
  }
}
