/**
 * The demo's live progress on stderr: which runs started and ended, and while they go, where they are —
 * run, iteration, phase, VPC; for runs started together (a sweep of several scopes) a bar of the runs
 * finished out of those started, and how much of the current iterations' planned work is done.
 *
 * On a terminal the status is one line rewritten in place (`\r`, erase line); without one (CI, a pipe, a
 * file) it is plain lines, fewer of them for a sweep of several scopes, and never a carriage return.
 */
import { displayText } from '../../functions/domain/display-text.ts';
import type { Progress, StartedRun } from './session.ts';

/** The phases a person follows; Choice, Pass and Wait states are plumbing. */
const PHASES: Readonly<Record<string, string>> = {
  Inventory: 'inventory',
  Audit: 'audit',
  PublishFindings: 'publish findings',
  Plan: 'plan',
  ApplyAuto: 'apply',
  RequestApproval: 'waiting for approval',
  ApplyApproved: 'apply approved',
  PollTransitions: 'waiting for AWS transitions',
  FinalInventory: 'inventory after the last change',
  FinalAudit: 'audit after the last change',
  FinalFindings: 'publish findings',
  Report: 'report',
};

const BAR_WIDTH = 12;
/** Without a terminal, a sweep's status line is repeated at most this often (runs ending print at once). */
const PLAIN_EVERY_MS = 5_000;
/** On a terminal, redraws at most this often: a sweep enters thousands of states a second. */
const REDRAW_EVERY_MS = 50;

/** `▕██████░░░░░░▏`: `done` of `total`, in eighths of a cell would be finer; whole cells read fine. */
export function progressBar(done: number, total: number, width = BAR_WIDTH): string {
  const filled = total > 0 ? Math.min(width, Math.floor((done / total) * width)) : 0;
  return `▕${'█'.repeat(filled)}${'░'.repeat(width - filled)}▏`;
}

/** Runs started together, and how far each has got. */
export interface Batch {
  readonly name: string;
  readonly runs: readonly StartedRun[];
  readonly finished: ReadonlySet<string>;
  /** Each run's latest progress (for its work done). */
  readonly latest: ReadonlyMap<string, Progress>;
  /** Each run's latest progress in a phase a person follows, least recent first: the line follows the last. */
  readonly phases: ReadonlyMap<string, Progress>;
}

/** The progress the line follows: the most recent phase of a run still going. */
function currentOf(batch: Batch): Progress | undefined {
  return [...batch.phases.values()].reverse().find((p) => !batch.finished.has(p.runId));
}

/** "iteration 1 · waiting for approval · legacy": where one run is, in a person's words (none: plumbing). */
export function whereText(p: Progress, names: ReadonlyMap<string, string>): string | undefined {
  const phase = PHASES[p.state];
  if (!phase) return undefined;
  // A name is a Name tag: on one line, whatever it holds (a status line rewritten in place most of all).
  const where = p.detail ? ` · ${displayText(names.get(p.detail) ?? p.detail, { max: 128 })}` : '';
  return `iteration ${p.iteration + 1} · ${phase}${where}`;
}

/**
 * The status line of a batch. One run: where it is (as the demo always showed it). Several: a bar of the runs
 * finished out of those started, the current iterations' planned work (a VPC's or Transit Gateway's
 * actions) done out of planned, summed over the runs, and where the most recently active run is.
 */
export function statusLine(
  batch: Batch,
  names: ReadonlyMap<string, string>,
  options: { bar: boolean },
): string | undefined {
  const current = currentOf(batch);
  const where = current ? whereText(current, names) : undefined;
  if (batch.runs.length <= 1) {
    if (!current || !where) return undefined;
    const { done, planned } = current.groups;
    return `  ${where}${planned > 0 ? ` · plan ${done}/${planned} done` : ''}`;
  }
  let done = 0;
  let planned = 0;
  for (const p of batch.latest.values()) {
    done += p.groups.done;
    planned += p.groups.planned;
  }
  const finished = batch.finished.size;
  const total = batch.runs.length;
  // What matters most first: a narrow terminal cuts the end.
  return [
    `${displayText(batch.name)} ${options.bar ? `${progressBar(finished, total)} ` : ''}${finished}/${total} scopes`,
    ...(planned > 0 ? [`plan ${done}/${planned} done`] : []),
    ...(current && where ? [`${current.accountId}/${current.region}`, where] : []),
  ].join(' · ');
}

export interface ProgressOptions {
  /** A terminal: the status line is rewritten in place. */
  readonly interactive: boolean;
  /** The terminal's width; a longer line is cut (a wrapped line could not be rewritten). */
  readonly columns?: number;
  /** VPC and Transit Gateway ids → names, for the status line. */
  readonly names: ReadonlyMap<string, string>;
  /** Milliseconds, for pacing redraws and plain lines. @default performance.now */
  readonly now?: () => number;
}

/** Writes the demo's progress to a stream; everything else the demo says there goes through `say`. */
export class ProgressDisplay {
  readonly #out: { write(chunk: string): unknown };
  readonly #options: ProgressOptions;
  readonly #now: () => number;
  #batch: Batch | undefined;
  /** The status line on screen (terminal) or last printed (plain). */
  #shown = '';
  #onScreen = false;
  #lastAt = Number.NEGATIVE_INFINITY;
  #paused = false;

  constructor(out: { write(chunk: string): unknown }, options: ProgressOptions) {
    this.#out = out;
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
  }

  runsStarted(batch: string, runs: readonly StartedRun[]): void {
    this.#batch = { name: batch, runs, finished: new Set(), latest: new Map(), phases: new Map() };
    this.say(runs.map((r) => `▶ ${displayText(r.label)} (${r.runId})`).join('\n'));
    this.#refresh(true);
  }

  runFinished(runId: string, label: string, status: string): void {
    const batch = this.#batch;
    if (batch) this.#batch = { ...batch, finished: new Set([...batch.finished, runId]) };
    this.say(`${status === 'SUCCEEDED' ? '✔' : '✖'} ${displayText(label)}: ${status.toLowerCase()}`);
    this.#refresh(true);
    // A sweep's last run: its full bar stays on screen, as the record of the sweep.
    if (this.#batch && this.#batch.runs.length > 1 && this.#batch.finished.size === this.#batch.runs.length) {
      if (this.#onScreen) this.#out.write('\n');
      this.#onScreen = false;
      this.#batch = undefined;
    }
  }

  progress(p: Progress): void {
    const batch = this.#batch;
    if (!batch) return;
    const latest = new Map(batch.latest).set(p.runId, p);
    const phases = new Map(batch.phases);
    if (PHASES[p.state]) {
      // Re-inserted, so the map's order is the order of recency.
      phases.delete(p.runId);
      phases.set(p.runId, p);
    }
    this.#batch = { ...batch, latest, phases };
    this.#refresh(false);
  }

  /** A line of its own (a run started, an approval answered): above the status line, which comes back. */
  say(text: string): void {
    this.#clear();
    this.#out.write(`${text}\n`);
  }

  /** While a prompt waits for an answer: no status line under it. */
  pause(): void {
    this.#clear();
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#refresh(true);
  }

  /** The runs are over: the status line ends, nothing is drawn again. */
  end(): void {
    this.#clear();
    this.#batch = undefined;
  }

  #clear(): void {
    if (this.#onScreen) this.#out.write('\r\x1b[2K');
    this.#onScreen = false;
  }

  #refresh(now: boolean): void {
    if (!this.#batch || this.#paused) return;
    const { interactive, names } = this.#options;
    const line = statusLine(this.#batch, names, { bar: interactive });
    if (line === undefined) return;
    const at = this.#now();
    if (interactive) {
      if (this.#onScreen && line === this.#shown) return;
      if (!now && this.#onScreen && at - this.#lastAt < REDRAW_EVERY_MS) return;
      const width = Math.max(20, (this.#options.columns ?? 150) - 1);
      this.#out.write(`\r\x1b[2K${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
      this.#onScreen = true;
    } else {
      if (line === this.#shown) return;
      // One run prints every step, as it always did; a sweep of several prints on a pace.
      if (this.#batch.runs.length > 1 && !now && at - this.#lastAt < PLAIN_EVERY_MS) return;
      this.#out.write(`${line}\n`);
    }
    this.#shown = line;
    this.#lastAt = at;
  }
}
