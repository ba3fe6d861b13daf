/**
 * What an execution's history says about changes a step made and could not record: every failed attempt's
 * cause is kept by Step Functions (GetExecutionHistory), so when the table that holds the audit log is what
 * failed, the failure report still names each such change from there.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html
 */
import { GetExecutionHistoryCommand, type HistoryEvent, type SFNClient } from '@aws-sdk/client-sfn';
import { toAwsCallError, UNRECORDED_MARK } from '../shared/errors.ts';

/** How far back a failure report reads: a run's history is a few thousand events at most. */
const MAX_PAGES = 50;

/** The sentences of failed attempts that name a change made without its record, each once, in order. */
export async function unrecordedChangesOf(sfn: SFNClient, executionArn: string): Promise<string[]> {
  const found: string[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    let page: { events?: HistoryEvent[]; nextToken?: string };
    try {
      page = await sfn.send(
        new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, reverseOrder: false, nextToken }),
      );
    } catch (error) {
      throw toAwsCallError(error, 'states', 'GetExecutionHistory');
    }
    for (const event of page.events ?? []) {
      const cause = event.lambdaFunctionFailedEventDetails?.cause ?? event.taskFailedEventDetails?.cause;
      const sentence = cause === undefined ? undefined : unrecordedSentence(cause);
      if (sentence !== undefined && !found.includes(sentence)) found.push(sentence);
    }
    nextToken = page.nextToken;
  } while (nextToken && ++pages < MAX_PAGES);
  return found;
}

/** `<kind> on <resource> (action <id>) was <outcome>` out of a cause that carries the mark. */
export function unrecordedSentence(cause: string): string | undefined {
  let message = cause;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') message = parsed.errorMessage;
  } catch {
    // A plain-text cause.
  }
  const at = message.indexOf(UNRECORDED_MARK);
  if (at < 0) return undefined;
  return message
    .slice(0, at)
    .replace(/^[A-Z][A-Za-z]+: /, '')
    .trim();
}
