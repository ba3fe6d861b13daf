/**
 * Output for people: aligned columns, and colour only on a terminal that wants it (a TTY, NO_COLOR unset).
 * Machines get `--format json`; nothing here is meant to be parsed.
 */
import { displayText } from '../functions/domain/display-text.ts';
import type { Io } from './io.ts';

export type Tone = 'good' | 'warn' | 'bad' | 'dim';

const ANSI: Readonly<Record<Tone, string>> = { good: '32', warn: '33', bad: '31', dim: '2' };

/** A cell: plain text, or text with a tone that is coloured when colour is on. */
export type Cell = string | { readonly text: string; readonly tone?: Tone | undefined };

export interface Style {
  readonly colour: boolean;
}

/** Colour when stdout is a terminal and the user has not asked for none (https://no-color.org). */
export function styleFor(io: Io, env: NodeJS.ProcessEnv = process.env): Style {
  const tty = (io.stdout as { isTTY?: boolean }).isTTY === true;
  return { colour: tty && !env.NO_COLOR && env.TERM !== 'dumb' };
}

export function paint(text: string, tone: Tone | undefined, style: Style): string {
  return style.colour && tone ? `\u001b[${ANSI[tone]}m${text}\u001b[0m` : text;
}

/** A cell's text on one line: values from AWS (a Name tag) can hold escapes and line breaks. */
function textOf(cell: Cell): string {
  return displayText(typeof cell === 'string' ? cell : cell.text);
}

/** Characters as a terminal counts them (code points; good enough for ids, names and verdicts). */
function width(text: string): number {
  return [...text].length;
}

/**
 * Rows under a header, columns padded to the widest cell, two spaces apart; the last column is not padded.
 * Colour is applied after padding so escape codes never skew the alignment.
 */
export function table(headers: readonly string[], rows: readonly (readonly Cell[])[], style: Style): string {
  const widths = headers.map((h, i) => Math.max(width(h), ...rows.map((r) => width(textOf(r[i] ?? '')))));
  const line = (cells: readonly Cell[], header: boolean) =>
    cells
      .map((cell, i) => {
        const text = textOf(cell);
        const padded = i === cells.length - 1 ? text : text + ' '.repeat((widths[i] ?? 0) - width(text));
        const tone = header ? 'dim' : typeof cell === 'string' ? undefined : cell.tone;
        return paint(padded, tone, style);
      })
      .join('  ')
      .trimEnd();
  return [line(headers, true), ...rows.map((r) => line(r, false))].join('\n');
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "3h 12m", "45m", "2d 4h"; "expired" when the time has passed. */
export function timeUntil(iso: string, now: Date): string {
  const ms = Date.parse(iso) - now.getTime();
  if (!Number.isFinite(ms)) return '?';
  if (ms <= 0) return 'expired';
  const minutes = Math.floor(ms / 60_000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${mins}m`;
  return minutes > 0 ? `${mins}m` : '<1m';
}
