/**
 * Text from AWS (a VPC's Name tag, a blocker's description, an error message, an event name) made safe to
 * show a person on one line: in a terminal, an SNS message, a Security Hub title, the HTML report.
 *
 * Anyone who may tag a VPC writes into vecguard's output. Left raw, an ESC starts an ANSI sequence (clear the
 * screen, an OSC-8 link), CR/LF start a line of the attacker's choosing ("all VPCs ENFORCED"), NUL cuts a C
 * string, and bidi overrides make text read backwards. So every such character is replaced by a visible
 * escape (`\x1b`, `\u{202e}`), never deleted: a reader sees that something was there, and a forged line can
 * never start a line. Everything else, printable text in any script, is left exactly as it was.
 *
 * Long values are cut with a marker that says how much is missing, so a 1 MB event name stays a line.
 */

/**
 * Code points a person must never receive raw: C0 controls (NUL … US, TAB, LF, CR, ESC), DEL and C1 controls
 * (`\p{Cc}`); format characters (`\p{Cf}`: the bidi marks, embeddings, overrides and isolates U+061C,
 * U+200E/F, U+202A–E, U+2066–9; the zero-width U+200B–D, U+2060, U+FEFF; the invisible tag characters
 * U+E0000–7F); the line and paragraph separators U+2028/9, which some renderers break lines on; and lone
 * surrogates, which UTF-8 cannot carry (SNS refuses or replaces such a message).
 */
const NEUTRALISED = /[\p{Cc}\p{Cf}\u2028\u2029]|\p{Cs}/u;

/** One code point as a visible escape: `\x1b` up to U+00FF, `\u{202e}` above. */
function escapeOf(codePoint: number): string {
  return codePoint <= 0xff
    ? `\\x${codePoint.toString(16).padStart(2, '0')}`
    : `\\u{${codePoint.toString(16)}}`;
}

/** Whether `text` holds nothing `displayText` would change (short enough aside). */
export function isDisplaySafe(text: string): boolean {
  return !NEUTRALISED.test(text);
}

/** The marker ending a cut value: how many characters (code points) of the original are not shown. */
export function cutMarker(omitted: number): string {
  return `… [${omitted} more characters]`;
}

export interface DisplayOptions {
  /**
   * At most this many UTF-16 units out, marker included (so also at most that many code points, whichever way
   * a limit is counted). An escape or a surrogate pair is never split. @default no bound
   */
  readonly max?: number;
}

/**
 * `value` for one line of human output: every character of `NEUTRALISED` as its escape, cut to `max` with
 * `cutMarker`. The identity on printable text within the bound.
 */
export function displayText(value: string, options: DisplayOptions = {}): string {
  const max = options.max ?? Number.POSITIVE_INFINITY;
  if (value.length <= max && isDisplaySafe(value)) return value;
  const pieces: string[] = [];
  let length = 0;
  let codePoints = 0;
  for (const ch of value) {
    const piece = NEUTRALISED.test(ch) ? escapeOf(ch.codePointAt(0) ?? 0) : ch;
    pieces.push(piece);
    length += piece.length;
    codePoints++;
  }
  if (length <= max) return pieces.join('');
  // The marker is sized for the largest count it could show, so that what precedes it always fits.
  const room = max - cutMarker(codePoints).length;
  if (room < 0) return '…'.slice(0, Math.max(0, max));
  let kept = 0;
  let used = 0;
  while (kept < pieces.length && used + (pieces[kept] as string).length <= room) {
    used += (pieces[kept] as string).length;
    kept++;
  }
  return `${pieces.slice(0, kept).join('')}${cutMarker(codePoints - kept)}`;
}

/**
 * What JSON.stringify leaves raw and a terminal would act on or hide: DEL, C1 controls, format characters
 * (bidi, zero-width) and the line/paragraph separators. (It escapes C0 controls and lone surrogates inside
 * strings itself; the only raw C0 it writes is the line break of its indentation, which must stay.)
 */
const RAW_IN_JSON = /[\x7f-\x9f\p{Cf}\u2028\u2029]/gu;

/**
 * `JSON.stringify(value, null, space)` safe to print on a terminal: every `RAW_IN_JSON` character as a
 * `\uXXXX` escape. The same JSON value, parsed: machines read exactly what AWS returned.
 */
export function terminalJson(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(RAW_IN_JSON, jsonEscape);
}

/** `ch` as JSON `\uXXXX` escapes, one per UTF-16 unit (a pair for an astral character). */
function jsonEscape(ch: string): string {
  let escaped = '';
  for (let i = 0; i < ch.length; i++) escaped += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return escaped;
}
