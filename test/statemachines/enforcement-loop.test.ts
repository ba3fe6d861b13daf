import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExecutionInputSchema } from '../../functions/domain/triggers.ts';

const ASL_PATH = 'statemachines/enforcement-loop.asl.json';
const text = readFileSync(ASL_PATH, 'utf8');
const asl = JSON.parse(text) as { StartAt: string; States: Record<string, State> };

interface State {
  Type: string;
  Next?: string;
  Default?: string;
  End?: boolean;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  Choices?: { Next: string }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  Retry?: { ErrorEquals: string[] }[];
  ItemProcessor?: { StartAt: string; States: Record<string, State> };
  TimeoutSecondsPath?: string;
  QueryLanguage?: string;
}

/** Every state of the definition, nested Map processors included, with the map it sits in. */
function allStates(states: Record<string, State>, path = ''): [string, State, Record<string, State>][] {
  return Object.entries(states).flatMap(([name, s]) => [
    [`${path}${name}`, s, states] as [string, State, Record<string, State>],
    ...(s.ItemProcessor ? allStates(s.ItemProcessor.States, `${path}${name}/`) : []),
  ]);
}

describe('the enforcement loop definition', () => {
  const states = allStates(asl.States);

  it('Init reads every field of the execution input on-event writes, and no other', () => {
    // A JSONPath reference to a field the input lacks fails the execution (States.Runtime), and a field Init
    // does not read is lost: both sides must move together (docs/loop.md "One execution = one scope").
    const groups = Object.values(asl.States.Init?.Parameters ?? {}) as Record<string, unknown>[];
    const read = groups
      .flatMap((group) => Object.entries(group))
      .filter(([key]) => key.endsWith('.$'))
      .map(([, path]) => String(path).replace(/^\$\./, ''));
    expect(read.sort()).toEqual(Object.keys(ExecutionInputSchema.shape).sort());
  });

  it('is JSONPath only: the local runner silently ignores JSONata', () => {
    expect(text).not.toMatch(/JSONata|\{%/);
    expect(states.filter(([, s]) => s.QueryLanguage)).toEqual([]);
  });

  it('every transition points at a state in the same scope', () => {
    for (const [name, s, scope] of states) {
      const targets = [
        s.Next,
        s.Default,
        ...(s.Choices ?? []).map((c) => c.Next),
        ...(s.Catch ?? []).map((c) => c.Next),
      ];
      for (const t of targets.filter(Boolean)) expect(scope, `${name} → ${t}`).toHaveProperty([t as string]);
    }
  });

  it('names every Lambda through a definition substitution, never a literal ARN', () => {
    const lambdas = states.filter(([, s]) => s.Type === 'Task');
    expect(lambdas.length).toBeGreaterThanOrEqual(10);
    for (const [name, s] of lambdas) {
      const fn = s.Resource?.startsWith('arn:aws:states:::') ? s.Parameters?.FunctionName : s.Resource;
      expect(fn, name).toMatch(/^\$\{[A-Za-z]+FunctionArn\}$/);
    }
  });

  it('retries throttling and transient AWS errors on every task, never bad input', () => {
    for (const [name, s] of states.filter(([, st]) => st.Type === 'Task')) {
      const retried = (s.Retry ?? []).flatMap((r) => r.ErrorEquals);
      expect(retried, name).toEqual(
        expect.arrayContaining(['ThrottlingError', 'TransientAwsError', 'Lambda.ServiceException']),
      );
      expect(retried, name).not.toContain('InvalidInputError');
      expect(retried, name).not.toContain('States.ALL');
    }
  });

  it('an approval that times out or is rejected is recorded as a rejection, never applied', () => {
    const approval = states.find(([name]) => name.endsWith('/RequestApproval'))?.[1];
    expect(approval?.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(approval?.TimeoutSecondsPath).toBe('$.settings.approvalTimeoutSeconds');
    expect(approval?.Parameters?.Payload).toMatchObject({ 'taskToken.$': '$$.Task.Token' });
    const rejection = approval?.Catch?.find((c) => c.ErrorEquals.includes('States.Timeout'));
    expect(rejection?.ErrorEquals).toContain('ApprovalRejected');
    expect(rejection?.Next).toBe('RecordRejection');
    expect(approval?.Next).toBe('ApplyApproved');
  });

  it('the top-level steps catch every error into a failure report that ends the run as failed', () => {
    for (const name of [
      'Inventory',
      'Audit',
      'PublishFindings',
      'Plan',
      'ApplyPages',
      'PollTransitions',
      'FinalInventory',
      'FinalAudit',
      'FinalFindings',
      'Report',
    ]) {
      expect(asl.States[name]?.Catch?.[0], name).toMatchObject({
        ErrorEquals: ['States.ALL'],
        Next: 'FailureReport',
      });
    }
    expect(asl.States.FailureReport?.Next).toBe('Failed');
    expect(asl.States.Failed?.Type).toBe('Fail');
  });

  it('the loop is bounded: iterations and polls are counted against limits from the input', () => {
    expect(JSON.stringify(asl.States.MoreIterations)).toContain('$.settings.maxIterations');
    expect(JSON.stringify(asl.States.Settled)).toContain('$.settings.maxPolls');
    expect(asl.States.CountPoll?.Next).toBe('PollTransitions');
  });
});
