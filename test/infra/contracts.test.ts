/**
 * What infra repeats from the code it deploys, checked against that code: the EC2 reads the handlers send,
 * the Config resource types the classifier acts on, the Task functions the local runner binds.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyEvent } from '../../functions/domain/triggers.ts';
import { CONFIG_RESOURCE_TYPE_PREFIX, CONFIG_RESOURCE_TYPES } from '../../infra/constructs/event-triggers.ts';
import { LOOP_FUNCTION_SPECS } from '../../infra/constructs/loop-functions.ts';
import { PROJECT_ROOT } from '../../infra/constructs/vecguard-function.ts';
import { EC2_READ_ACTIONS, ORGANIZATIONS_READ_ACTIONS } from '../../infra/permissions.ts';
import { LOOP_FUNCTIONS } from '../../local/loop.ts';

/** The `XCommand`s a source file imports from an SDK client package, as IAM actions of `service`. */
function commandsOf(file: string, client: string, service: string): string[] {
  const text = readFileSync(join(PROJECT_ROOT, file), 'utf8');
  return [...text.matchAll(new RegExp(`import\\s*\\{([^}]*)\\}\\s*from\\s*'@aws-sdk/${client}'`, 'g'))]
    .flatMap((m) => (m[1] ?? '').split(','))
    .map((name) => name.trim().replace(/^type\s+/, ''))
    .filter((name) => /^[A-Z]\w*Command$/.test(name))
    .map((name) => `${service}:${name.replace(/Command$/, '')}`);
}

/** The `XCommand`s a source file imports from @aws-sdk/client-ec2, as IAM actions. */
function ec2CommandsOf(file: string): string[] {
  return commandsOf(file, 'client-ec2', 'ec2');
}

describe('EC2 reads granted to Inventory and PollTransitions', () => {
  it.each(['functions/adapters/inventory.ts', 'functions/handlers/poll-transitions.ts'])(
    'cover every EC2 command %s sends',
    (file) => {
      const sent = ec2CommandsOf(file);
      expect(sent.filter((a) => !(EC2_READ_ACTIONS as readonly string[]).includes(a))).toEqual([]);
    },
  );

  it('the inventory sends something (the scan above reads the imports)', () => {
    expect(ec2CommandsOf('functions/adapters/inventory.ts')).toContain('ec2:DescribeVpcs');
  });
});

describe('Organizations reads granted to on-event', () => {
  it('are exactly the commands the Organizations adapter sends', () => {
    const sent = commandsOf('functions/adapters/organizations.ts', 'client-organizations', 'organizations');
    expect(sent.sort()).toEqual([...ORGANIZATIONS_READ_ACTIONS].sort());
  });
});

function configChange(resourceType: string) {
  return {
    version: '0',
    id: 'e-1',
    'detail-type': 'Config Configuration Item Change',
    source: 'aws.config',
    account: '111111111111',
    time: '2026-11-24T01:30:00Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      messageType: 'ConfigurationItemChangeNotification',
      configurationItem: {
        resourceType,
        resourceId: 'vpc-0123456789abcdef0',
        awsAccountId: '111111111111',
        awsRegion: 'us-east-1',
        relationships: [{ resourceType: 'AWS::EC2::VPC', resourceId: 'vpc-0123456789abcdef0' }],
      },
      configurationItemDiff: { changeType: 'UPDATE' },
    },
  };
}

describe('the Config rule delivers what the classifier acts on', () => {
  it.each([
    ...CONFIG_RESOURCE_TYPES,
    CONFIG_RESOURCE_TYPE_PREFIX,
    `${CONFIG_RESOURCE_TYPE_PREFIX}Attachment`,
  ])('%s starts a run', (type) => {
    expect(classifyEvent(configChange(type)).kind).toBe('run');
  });

  it('a type the rule does not match is ignored by the classifier too', () => {
    expect(classifyEvent(configChange('AWS::EC2::SecurityGroup')).kind).toBe('ignored');
  });
});

describe('Task functions', () => {
  it('are the ones the local runner binds, with the same handler modules', () => {
    const deployed = Object.fromEntries(
      Object.entries(LOOP_FUNCTION_SPECS).map(([id, spec]) => [`${id}FunctionArn`, spec.module]),
    );
    expect(deployed).toEqual({ ...LOOP_FUNCTIONS });
  });
});
