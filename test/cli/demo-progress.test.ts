/**
 * The demo's progress display, fed the events a session reports: a bar of the runs finished out of those
 * started, rewritten in place on a terminal; plain lines without one.
 */
import { describe, expect, it } from 'vitest';
import { ProgressDisplay, progressBar } from '../../cli/demo/progress.ts';
import type { Progress, StartedRun } from '../../cli/demo/session.ts';

const runs: StartedRun[] = ['us-east-1', 'eu-west-1'].flatMap((region) =>
  ['200000000001', '200000000002'].map((accountId, i) => ({
    runId: `run-${region}-${i}`,
    label: `scheduled sweep ${accountId}/${region}`,
    accountId,
    region,
  })),
);

function at(run: StartedRun, state: string, groups = { done: 0, planned: 0 }, detail?: string): Progress {
  return { ...run, iteration: 0, state, groups, ...(detail ? { detail } : {}) };
}

/** A sweep of four scopes: each goes through its phases, then they finish one after the other. */
function sweep(display: ProgressDisplay) {
  display.runsStarted('scheduled sweep', runs);
  for (const run of runs) display.progress(at(run, 'Inventory'));
  for (const run of runs) display.progress(at(run, 'Audit'));
  for (const run of runs) display.progress(at(run, 'RequestApproval', { done: 1, planned: 3 }, 'vpc-1'));
  for (const run of runs) display.progress(at(run, 'GroupDone', { done: 3, planned: 3 }));
  for (const run of runs) display.runFinished(run.runId, run.label, 'SUCCEEDED');
  display.end();
}

function capture(tty: boolean) {
  let text = '';
  let clock = 0;
  const out = { write: (s: string) => (text += s) };
  // Each event a second apart: the display's pacing lets every one through.
  const display = new ProgressDisplay(out, {
    interactive: tty,
    columns: 100,
    names: new Map([['vpc-1', 'payments']]),
    now: () => (clock += 10_000),
  });
  return { display, text: () => text };
}

describe('the demo progress display', () => {
  it('draws a bar of finished scopes that fills cell by cell', () => {
    expect(progressBar(0, 4)).toBe('▕░░░░░░░░░░░░▏');
    expect(progressBar(2, 4)).toBe('▕██████░░░░░░▏');
    expect(progressBar(4, 4)).toBe('▕████████████▏');
    expect(progressBar(0, 0)).toBe('▕░░░░░░░░░░░░▏');
  });

  it('on a terminal, rewrites one line in place until the bar reaches 4/4, and leaves it there', () => {
    const { display, text } = capture(true);
    sweep(display);
    const out = text();
    const drawn = out.split('\r\x1b[2K').slice(1);
    expect(drawn.length).toBeGreaterThan(4);
    expect(out).toContain(
      '\r\x1b[2Kscheduled sweep ▕░░░░░░░░░░░░▏ 0/4 scopes · plan 4/12 done · 200000000002/eu-west-1 · iteration 1 …',
    );
    expect(out).toContain(
      '\r\x1b[2Kscheduled sweep ▕██████░░░░░░▏ 2/4 scopes · plan 12/12 done · 200000000002/eu-west-1',
    );
    // The last line drawn is the full bar, ended with a newline so it stays on screen.
    expect(drawn.at(-1)).toBe('scheduled sweep ▕████████████▏ 4/4 scopes · plan 12/12 done\n');
    // Every redraw fits the terminal's width.
    for (const line of drawn) expect(line.split('\n')[0]?.length ?? 0).toBeLessThan(100);
  });

  it('without a terminal, prints plain lines with no carriage return', () => {
    const { display, text } = capture(false);
    sweep(display);
    const out = text();
    expect(out).not.toContain('\r');
    expect(out).not.toContain('\x1b');
    expect(out).toContain('▶ scheduled sweep 200000000001/us-east-1 (run-us-east-1-0)\n');
    expect(out).toContain(
      'scheduled sweep 0/4 scopes · plan 4/12 done · 200000000002/eu-west-1 · iteration 1 · waiting for approval · payments\n',
    );
    expect(out).toContain('scheduled sweep 2/4 scopes · plan 12/12 done · 200000000002/eu-west-1');
    expect(out).toContain('scheduled sweep 4/4 scopes · plan 12/12 done\n');
    expect(out).not.toContain('▕');
  });
});
