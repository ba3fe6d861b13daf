import { describe, expect, it } from 'vitest';
import {
  applySubstitutions,
  collectTasks,
  DefinitionError,
  EFFECTIVE_INPUT_KEY,
  type JsonObject,
  parseDefinition,
  prepareRuntimeDefinition,
  resolveReferencePath,
  STATE_INPUT_KEY,
} from '../src/stepfunctions/definition.ts';

const FN = 'arn:aws:lambda:us-east-1:111111111111:function';

const definition: JsonObject = {
  StartAt: 'Inventory',
  TimeoutSeconds: 3600,
  States: {
    Inventory: {
      Type: 'Task',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a DefinitionSubstitutions placeholder
      Resource: '${InventoryFunctionArn}',
      Retry: [{ ErrorEquals: ['ThrottlingError'], MaxDelaySeconds: 20 }],
      Next: 'Pages',
    },
    Pages: {
      Type: 'Map',
      Iterator: {
        StartAt: 'Approve',
        States: {
          Approve: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
            Parameters: { FunctionName: `${FN}:approve`, Payload: { 'token.$': '$$.Task.Token' } },
            TimeoutSecondsPath: '$.timeout',
            HeartbeatSeconds: 60,
            End: true,
          },
        },
      },
      Next: 'Both',
    },
    Both: {
      Type: 'Parallel',
      Branches: [
        {
          StartAt: 'Dynamic',
          States: {
            Dynamic: {
              Type: 'Task',
              Resource: 'arn:aws:states:::lambda:invoke',
              Parameters: { 'FunctionName.$': '$.fn', 'Payload.$': '$' },
              TimeoutSeconds: 30,
              End: true,
            },
          },
        },
        {
          StartAt: 'Publish',
          States: { Publish: { Type: 'Task', Resource: 'arn:aws:states:::sns:publish', End: true } },
        },
      ],
      Next: 'Pause',
    },
    Pause: { Type: 'Wait', Seconds: 30, Next: 'Done' },
    Done: { Type: 'Succeed' },
  },
};

describe('ASL definitions for the local runner', () => {
  it('substitutes placeholders in every string and names the substitutions it has no value for', () => {
    const substituted = applySubstitutions(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: DefinitionSubstitutions placeholders
      { a: 'x-${One}-${Two}', nested: [{ b: '${One}' }], n: 3 },
      { One: '1', Two: '2' },
    );
    expect(substituted).toEqual({ a: 'x-1-2', nested: [{ b: '1' }], n: 3 });
    expect(() => applySubstitutions(definition, {})).toThrow(/\$\{InventoryFunctionArn\}/);
    expect(() => applySubstitutions(definition, {})).toThrow(DefinitionError);
  });

  it('refuses JSONata and non-JSON definitions rather than running something else', () => {
    expect(() => parseDefinition({ QueryLanguage: 'JSONata', StartAt: 'A', States: {} })).toThrow(/JSONata/);
    expect(() => parseDefinition('{not json')).toThrow(DefinitionError);
  });

  it('finds every Task, nested in Map iterators and Parallel branches, with what it invokes', () => {
    const tasks = collectTasks(applySubstitutions(definition, { InventoryFunctionArn: `${FN}:inventory` }));
    expect(
      tasks.map(({ stateName, kind, handlerKey, waitForTaskToken }) => ({
        stateName,
        kind,
        handlerKey,
        waitForTaskToken,
      })),
    ).toEqual([
      { stateName: 'Inventory', kind: 'lambda', handlerKey: `${FN}:inventory`, waitForTaskToken: false },
      { stateName: 'Approve', kind: 'lambda-invoke', handlerKey: `${FN}:approve`, waitForTaskToken: true },
      { stateName: 'Dynamic', kind: 'lambda-invoke', handlerKey: undefined, waitForTaskToken: false },
      {
        stateName: 'Publish',
        kind: 'other',
        handlerKey: 'arn:aws:states:::sns:publish',
        waitForTaskToken: false,
      },
    ]);
    expect(tasks[1]).toMatchObject({
      timeoutSecondsPath: '$.timeout',
      heartbeatSeconds: 60,
      wrapsStateInput: true,
    });
  });

  it('divides durations by the speed factor and hands task timeouts to the runner, leaving the original alone', () => {
    const original = structuredClone(definition);
    const { definition: runtime, taskStates } = prepareRuntimeDefinition(definition, 10);
    expect(definition).toEqual(original);
    expect(runtime.TimeoutSeconds).toBe(360);
    const states = runtime.States as Record<string, JsonObject>;
    expect(states.Pause?.Seconds).toBe(3);
    expect(states.Inventory?.Retry).toEqual([
      { ErrorEquals: ['ThrottlingError'], IntervalSeconds: 0.1, MaxDelaySeconds: 2 },
    ]);
    const approve = taskStates.get('Approve');
    expect(approve?.TimeoutSecondsPath).toBeUndefined();
    expect(approve?.HeartbeatSeconds).toBeUndefined();
    expect(approve?.Parameters).toEqual({
      [EFFECTIVE_INPUT_KEY]: { FunctionName: `${FN}:approve`, Payload: { 'token.$': '$$.Task.Token' } },
      [`${STATE_INPUT_KEY}.$`]: '$',
    });
    // Parameters are wrapped only where a ...Path timeout needs the state input.
    expect(taskStates.get('Dynamic')?.Parameters).toEqual({ 'FunctionName.$': '$.fn', 'Payload.$': '$' });
    expect([...taskStates.keys()]).toEqual(['Inventory', 'Approve', 'Dynamic', 'Publish']);
  });

  it('resolves reference paths against the state input or the context object', () => {
    const input = { a: { b: [10, { c: 'x' }] }, 'odd key': 1 };
    expect(resolveReferencePath('$.a.b[1].c', input, null)).toBe('x');
    expect(resolveReferencePath("$['odd key']", input, null)).toBe(1);
    expect(resolveReferencePath('$.a.missing', input, null)).toBeUndefined();
    expect(resolveReferencePath('$$.Execution.Input.t', null, { Execution: { Input: { t: 5 } } })).toBe(5);
    expect(() => resolveReferencePath('a.b', input, null)).toThrow(DefinitionError);
  });
});
