import { ERROR_WORD, SERVER_ERROR_TEXT } from '../protocol/vocabulary.js';

/**
 * Errors the client rejects with. The four error replies of the protocol each get a
 * class (docs/protocol.md 4); ConnectionError covers everything that happens below a reply:
 * a refused or dropped connection, a closed client, a reply that does not parse.
 */

export class WorkqError extends Error {
  /** The wire error word (`TIMEOUT`, `NOT-FOUND`, `CLIENT-ERROR`, `SERVER-ERROR`) or `CONNECTION`. */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** `-TIMEOUT`: a lease, run or result waited its whole wait-timeout. */
export class TimeoutError extends WorkqError {
  constructor() {
    super(ERROR_WORD.timeout, 'timed out');
  }
}

/** `-NOT-FOUND`: unknown, deleted or expired job, or unknown queue. */
export class NotFoundError extends WorkqError {
  constructor() {
    super(ERROR_WORD.notFound, 'not found');
  }
}

/** `-CLIENT-ERROR <text>`; `text` is the server's text, e.g. `Duplicate job`. */
export class ClientError extends WorkqError {
  readonly text: string;

  constructor(text: string) {
    super(ERROR_WORD.clientError, text);
    this.text = text;
  }
}

/** `-SERVER-ERROR <text>`, e.g. the read-only mode of a server whose log cannot be written. */
export class ServerError extends WorkqError {
  readonly text: string;

  constructor(text: string) {
    super(ERROR_WORD.serverError, text);
    this.text = text;
  }
}

/**
 * `-SERVER-ERROR Server stopping`: a lease, run or result still waiting when its server
 * stopped or restarted (docs/protocol.md 12.8). A lease took no job; lease and result
 * ask again by themselves. A run's job is gone with the server (run jobs are not kept
 * across restarts) and a worker may have started it: the caller decides whether to run
 * it again.
 */
export class ServerStoppingError extends ServerError {
  constructor() {
    super(SERVER_ERROR_TEXT.stopping);
  }
}

/** No reply: the connection failed or dropped, the client was closed, or the reply was malformed. */
export class ConnectionError extends WorkqError {
  /** The `host:port` the call was meant for. */
  readonly server: string;

  constructor(server: string, message: string, options?: { cause?: unknown }) {
    super('CONNECTION', `${server}: ${message}`);
    this.server = server;
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}
