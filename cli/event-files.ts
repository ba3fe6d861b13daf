/**
 * Event files, for `vecguard events classify` and `vecguard demo --events`: JSON (one event, an array, an SNS
 * message, a CloudTrail log file…) or JSON Lines, plain or gzip (as CloudTrail writes its log files to S3),
 * recognised by gzip's magic bytes rather than the name. What is inside is unwrapped by the domain
 * (functions/domain/event-envelopes.ts), the same way for both commands.
 */
import { readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { eventsIn, type FoundEvent } from '../functions/domain/event-envelopes.ts';
import { formatBytes } from '../functions/domain/policy.ts';
import { CliError } from './io.ts';

/**
 * Bytes of a file, after gunzip. An hour of a busy account's CloudTrail log is a few MB; far above, the file
 * is not what the user meant, and reading it would only fill memory.
 */
export const EVENT_FILE_MAX_BYTES = 256 * 1024 * 1024;

/** gzip's magic number, RFC 1952 §2.3.1. */
const GZIP_MAGIC = [0x1f, 0x8b];

/** A file's text: refused by size before reading, gunzipped when gzip, checked again after. */
function readEventText(file: string): string {
  let bytes: Buffer;
  try {
    const stat = statSync(file);
    if (stat.isDirectory()) throw new CliError(`${file}: is a directory; name the event files inside it`);
    if (stat.size > EVENT_FILE_MAX_BYTES) throw new CliError(tooLarge(file, stat.size));
    bytes = readFileSync(file);
  } catch (e) {
    if (e instanceof CliError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new CliError(code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot read it (${code})`);
  }
  if (bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1]) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: EVENT_FILE_MAX_BYTES });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new CliError(
        code === 'ERR_BUFFER_TOO_LARGE'
          ? tooLarge(file, EVENT_FILE_MAX_BYTES, true)
          : `${file}: starts like gzip but does not unzip (${(e as Error).message}); check the file is whole`,
      );
    }
  }
  if (bytes.byteLength > EVENT_FILE_MAX_BYTES) throw new CliError(tooLarge(file, bytes.byteLength));
  return bytes.toString('utf8');
}

function tooLarge(file: string, bytes: number, unzipped = false): string {
  const size = unzipped
    ? `unzips to more than ${formatBytes(EVENT_FILE_MAX_BYTES)}`
    : `is ${formatBytes(bytes)}`;
  return `${file}: ${size}; vecguard reads at most ${formatBytes(EVENT_FILE_MAX_BYTES)} of events a file: split it`;
}

/** A file's JSON documents: one, or one a line (JSON Lines), with its line. Throws CliError naming the line. */
export function readEventDocuments(file: string): { readonly line?: number; readonly document: unknown }[] {
  const text = readEventText(file);
  try {
    return [{ document: JSON.parse(text) }];
  } catch (whole) {
    const lines = text.split('\n');
    if (lines.filter((l) => l.trim() !== '').length < 2) {
      throw new CliError(`${file}: not JSON (${oneLine(whole)}); expected events as JSON or JSON Lines`);
    }
    return lines.flatMap((line, i) => {
      if (line.trim() === '') return [];
      try {
        return [{ line: i + 1, document: JSON.parse(line) as unknown }];
      } catch (e) {
        throw new CliError(
          `${file}: line ${i + 1} is not JSON (${oneLine(e)}); expected events as JSON or JSON Lines`,
        );
      }
    });
  }
}

/** A parser's message on one line: JSON.parse quotes the text it choked on, newlines and all. */
function oneLine(error: unknown): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
  return (error instanceof Error ? error.message : String(error)).replace(/[\u0000-\u001f\u007f]+/g, ' ');
}

/** Every event in a file, in order; for JSON Lines, `at` starts with the line. */
export function readEventFile(file: string): FoundEvent[] {
  return readEventDocuments(file).flatMap(({ line, document }) =>
    eventsIn(document).map((found) =>
      line === undefined
        ? found
        : { ...found, at: `line ${line}${found.at === '(document)' ? '' : ` ${found.at}`}` },
    ),
  );
}
