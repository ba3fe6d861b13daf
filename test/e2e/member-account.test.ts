/** A scope in another account: every call, Security Hub included, goes through that account's role. */

import { defaultProductArn } from '@vecguard/sandbox';
import { expect, it } from 'vitest';
import type { LocalLoop } from '../../local/loop.ts';
import { byName, runToEnd, startLoop, stopLoopsAfterEach } from './harness.ts';

const MEMBER = '222222222222';
let loop: LocalLoop | undefined;
stopLoopsAfterEach();

it('a member-account run acts and reports in the member account, with the role the run names', async () => {
  loop = await startLoop({ scenario: 'test/fixtures/scenarios/member-account.yaml' });
  // on-event names the member role for the scope's account, as a deployment's does.
  const { result, summary } = await runToEnd(loop, () => true, { accountId: MEMBER });
  expect(result.status).toBe('SUCCEEDED');
  expect(byName(summary).orders?.after).toBe('ENFORCED');
  expect(byName(summary).reports?.after).toBe('ENFORCED');
  const hub = loop.sandbox.securityHub;
  const findings = hub.findings(MEMBER, 'us-east-1');
  expect(findings.length).toBeGreaterThanOrEqual(2);
  expect(findings.every((f) => f.ProductArn === defaultProductArn(MEMBER, 'us-east-1'))).toBe(true);
  // The hub account's own Security Hub and EC2 were never touched.
  expect(hub.findings('111111111111', 'us-east-1')).toEqual([]);
  const hubAccountEc2 = loop.sandbox.calls.query({ service: 'ec2', accountId: '111111111111' });
  expect(hubAccountEc2).toEqual([]);
});
