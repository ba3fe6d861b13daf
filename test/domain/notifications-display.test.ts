/**
 * Issue 9, problem 8, in the messages SNS carries: an error message or a VPC name holding escapes, CR/LF,
 * NUL, bidi and zero-width characters reaches the failure and run reports on one line, escaped, bounded,
 * and the subject stays printable ASCII (SNS Publish: no line breaks or control characters, under 100).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { failureReportNotification, runReportNotification } from '../../functions/domain/notifications.ts';

const HOSTILE =
  '\u001b[2J\u001b]8;;https://evil.example/\u0007x\u001b]8;;\u0007\r\nall VPCs ENFORCED\u0000\u202e\u200b';

/** A line of a message that starts with the forged text, or any control but LF, any bidi or zero-width. */
function problems(message: string): string[] {
  const bad = [...message].filter((ch) => {
    const cp = ch.codePointAt(0) ?? 0;
    return (
      (cp < 0x20 && cp !== 0x0a) ||
      (cp >= 0x7f && cp <= 0x9f) ||
      (cp >= 0x200b && cp <= 0x200f) ||
      (cp >= 0x2028 && cp <= 0x202e)
    );
  });
  const forged = message.split('\n').filter((l) => l.trimStart().startsWith('all VPCs ENFORCED'));
  return [...bad.map((ch) => `U+${(ch.codePointAt(0) ?? 0).toString(16)}`), ...forged];
}

const base = { runId: 'run-1', accountId: '222222222222', region: 'eu-west-1', state: 'ApplyAuto' };

describe('notifications with hostile values', () => {
  it('a failure report shows an error message on one line, escaped and bounded', () => {
    const n = failureReportNotification({
      ...base,
      error: { name: `AwsCallError${HOSTILE}`, message: `${HOSTILE}${'x'.repeat(100_000)}` },
    });
    expect(problems(n.message)).toEqual([]);
    expect(n.message).toContain('\\x1b[2J');
    expect(n.message).toMatch(/… \[\d+ more characters\]/);
    expect(n.message.length).toBeLessThan(4_000);
    expect(n.subject).toMatch(/^[\x21-\x7e][\x20-\x7e]{0,99}$/);
  });

  it('a run report shows any VPC name and reason on one line', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (name) => {
        const n = runReportNotification({
          runId: 'run-1',
          accountId: '111111111111',
          region: 'us-east-1',
          finishedAt: '2026-11-24T02:00:00Z',
          dryRun: false,
          verdictsBefore: { UNMONITORED: 1 },
          verdictsAfter: { UNMONITORED: 1 },
          actions: { applied: 0, dryRun: 0, failed: 1, alreadySo: 0 },
          actionLines: [
            { summary: `create a control on vpc-1 (${name}${HOSTILE})`, outcome: 'failed', error: HOSTILE },
          ],
          remaining: [
            { resourceId: 'vpc-1', name: `${name}${HOSTILE}`, verdict: 'UNMONITORED', why: HOSTILE },
          ],
        });
        expect(problems(n.message)).toEqual([]);
        expect(n.subject).toMatch(/^[\x21-\x7e][\x20-\x7e]{0,99}$/);
      }),
    );
  });
});
