import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '#shared/config.ts';

const VALID = {
  VECGUARD_TABLE_NAME: 'vecguard-state',
  VECGUARD_TOPIC_ARN: 'arn:aws:sns:us-east-1:111111111111:vecguard',
  VECGUARD_POLICY_FILE: './policy.yaml',
};

function failure(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('loadConfig', () => {
  it('reads the required variables and leaves the optional ones absent', () => {
    expect(loadConfig(VALID)).toEqual({
      tableName: 'vecguard-state',
      topicArn: 'arn:aws:sns:us-east-1:111111111111:vecguard',
      policyFile: './policy.yaml',
    });
  });

  it('a missing variable fails with its name and what to set it to', () => {
    const error = failure({ ...VALID, VECGUARD_TABLE_NAME: undefined });
    expect(error.variables).toEqual(['VECGUARD_TABLE_NAME']);
    expect(error.message).toContain('VECGUARD_TABLE_NAME is not set');
    expect(error.message).toContain('DynamoDB state table');
    expect(error.name).toBe('ConfigError');
  });

  it('an empty variable counts as missing, and every bad variable is named at once', () => {
    const error = failure({ VECGUARD_TABLE_NAME: '  ', VECGUARD_TOPIC_ARN: 'vecguard-topic' });
    expect(error.variables.toSorted()).toEqual([
      'VECGUARD_POLICY_FILE',
      'VECGUARD_TABLE_NAME',
      'VECGUARD_TOPIC_ARN',
    ]);
    expect(error.message).toContain('VECGUARD_TOPIC_ARN is not an SNS topic ARN');
    expect(error.message).toContain('VECGUARD_POLICY_FILE is not set');
  });

  it('parses the dry-run override and the state machine ARN', () => {
    const arn = 'arn:aws:states:us-east-1:111111111111:stateMachine:vecguard-loop';
    expect(loadConfig({ ...VALID, VECGUARD_DRY_RUN: 'TRUE', VECGUARD_STATE_MACHINE_ARN: arn })).toMatchObject(
      {
        dryRun: true,
        stateMachineArn: arn,
      },
    );
    expect(loadConfig({ ...VALID, VECGUARD_DRY_RUN: 'false' }).dryRun).toBe(false);
    expect(loadConfig({ ...VALID, VECGUARD_DRY_RUN: '' }).dryRun).toBeUndefined();
    expect(failure({ ...VALID, VECGUARD_DRY_RUN: 'maybe' }).message).toContain(
      'VECGUARD_DRY_RUN must be true or false',
    );
  });

  it('reads the member external id, and refuses one STS would not take, naming the variable', () => {
    expect(loadConfig({ ...VALID, VECGUARD_MEMBER_EXTERNAL_ID: ' vecguard-7f3a ' }).memberExternalId).toBe(
      'vecguard-7f3a',
    );
    expect(loadConfig({ ...VALID, VECGUARD_MEMBER_EXTERNAL_ID: '' }).memberExternalId).toBeUndefined();
    for (const bad of ['x', 'has space', 'a'.repeat(1225)]) {
      const error = failure({ ...VALID, VECGUARD_MEMBER_EXTERNAL_ID: bad });
      expect(error.variables).toEqual(['VECGUARD_MEMBER_EXTERNAL_ID']);
      expect(error.message).toContain('VECGUARD_MEMBER_EXTERNAL_ID is not an external id STS accepts');
      expect(error.message).toContain("the member stack's externalId");
    }
  });

  it('refuses a policy file that is neither JSON nor YAML', () => {
    expect(failure({ ...VALID, VECGUARD_POLICY_FILE: 'policy.txt' }).variables).toEqual([
      'VECGUARD_POLICY_FILE',
    ]);
  });
});
