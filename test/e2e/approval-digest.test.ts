/**
 * An approval binds to what it showed (issue 9, problem 3): a person approves "move the bastion from
 * t2.medium to …"; the instance is retyped behind vecguard's back before the move, so the move is refused;
 * the next iteration plans the same action id for another move (c5.4xlarge → …). That is a new question:
 * a new request is sent, and nothing is applied under the old approval. The real ASL, the real handlers and
 * the real SDK clients against the sandbox.
 */
import { describe, expect, it } from 'vitest';
import type { Approval } from '../../functions/adapters/store/approvals.ts';
import type { LocalLoop } from '../../local/loop.ts';
import { ACCOUNT, REGION, runToEnd, startLoop, stopLoopsAfterEach } from './harness.ts';

let loop: LocalLoop | undefined;
stopLoopsAfterEach();

const RETYPED = 'c5.4xlarge';

const approvalRequests = (l: LocalLoop) =>
  l.sandbox.sns.messagesFor(l.topicArn).filter((m) => m.message.startsWith('vecguard asks for approval'));

/** The approval's move of an instance that runs `from`, if it asks for one. */
const moveFrom = (a: Approval, from: string) =>
  a.actions.find((x) => x.kind === 'move-instance' && x.summary.includes(` from ${from} to `));

describe('an approval given for one move, when the instance has been retyped since', () => {
  it('asks again for the new move, and applies nothing under the old approval', async () => {
    loop = await startLoop();
    const l = loop;
    let first: { approval: Approval; instanceId: string } | undefined;
    let second: Approval | undefined;
    const { result, runId } = await runToEnd(l, (a) => {
      const asked = a.target.name === 'legacy' ? moveFrom(a, 't2.medium') : undefined;
      if (asked && !first) {
        // While the person reads the request, a colleague retypes the instance in the console.
        first = { approval: a, instanceId: asked.resourceId };
        l.sandbox.ec2.drift({
          kind: 'set-instance-type',
          instanceId: asked.resourceId,
          instanceType: RETYPED,
          accountId: ACCOUNT,
          region: REGION,
        });
        return true;
      }
      if (first && a.actionIds.includes(`move-instance:${first.instanceId}`)) {
        second = a;
        return false;
      }
      // Everything else is approved, so that the run goes on as it would.
      return true;
    });
    expect(result.status).toBe('SUCCEEDED');
    if (!first) throw new Error('legacy should have asked to move its t2.medium bastion');
    const actionId = `move-instance:${first.instanceId}`;

    // The same action id, asked again for what it does now: a new approval, a new message.
    expect(second, 'a new approval request for the retyped instance').toBeDefined();
    expect(second?.approvalId).not.toBe(first.approval.approvalId);
    expect(second?.iteration).toBeGreaterThan(first.approval.iteration ?? 0);
    const now = second?.actions.find((x) => x.actionId === actionId);
    expect(now?.summary).toContain(`from ${RETYPED} to `);
    expect(now?.digest).not.toBe(first.approval.actions.find((x) => x.actionId === actionId)?.digest);
    const asked = approvalRequests(l).find((m) => m.message.includes(second?.approvalId ?? '?'));
    expect(asked?.message).toContain(`from ${RETYPED} to `);
    expect(asked?.message).toContain(`(digest ${second?.digest?.slice(0, 23)}…)`);

    // Nothing applied under the old approval: the move was refused on the live type, then never tried again.
    const entries = (await l.auditLog.listAuditEntries(ACCOUNT, REGION)).filter(
      (e) => e.runId === runId && e.actionId === actionId,
    );
    expect(entries.filter((e) => e.outcome === 'applied')).toEqual([]);
    expect(entries.map((e) => [e.outcome, e.approvalId])).toEqual([['refused', first.approval.approvalId]]);
    expect(l.sandbox.ec2.regionState(ACCOUNT, REGION).instances.get(first.instanceId)?.instanceType).toBe(
      RETYPED,
    );
  });
});
