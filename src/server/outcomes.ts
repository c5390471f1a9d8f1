import type { EngineError, RunOutcome } from '../jobs/types.js';
import type { ReplyWriter } from '../protocol/replies.js';
import { SERVER_ERROR_TEXT } from '../protocol/vocabulary.js';

/** The one place where engine refusals become wire errors, so the domain code never formats a reply. */
export function writeEngineError(out: ReplyWriter, error: EngineError): void {
  switch (error) {
    case 'not-found':
      out.notFound();
      return;
    case 'duplicate-job':
      out.clientError('duplicate-job');
      return;
    case 'duplicate-result':
      out.clientError('duplicate-result');
      return;
    case 'invalid-time':
      out.clientError('invalid-time');
      return;
    case 'not-leased':
      out.clientError('job-not-leased');
      return;
    case 'not-failed':
      out.clientError('job-not-failed');
      return;
    case 'memory-full':
      out.serverError(SERVER_ERROR_TEXT.memoryFull);
      return;
    case 'too-many-queues':
      out.serverError(SERVER_ERROR_TEXT.tooManyQueues);
      return;
  }
}

/** The reply of `result` and `run` once the wait is over. */
export function writeFinished(out: ReplyWriter, outcome: RunOutcome | 'not-found'): void {
  if (outcome === 'timeout') out.timeout();
  else if (outcome === 'memory-full') out.serverError(SERVER_ERROR_TEXT.memoryFull);
  else if (outcome === 'too-many-queues') out.serverError(SERVER_ERROR_TEXT.tooManyQueues);
  else if (outcome === 'not-found') out.notFound();
  else if (outcome === 'duplicate-job') out.clientError('duplicate-job');
  else out.finished(outcome.id, outcome.success, outcome.result);
}
