/**
 * Reply bytes held by all the connections of one server, against limits.maxReplyBufferBytes
 * (docs/protocol.md 12.3). Each connection adds what it holds (replies built and not yet
 * taken by its socket) at the points where that changes: after a batch of replies is handed
 * over, when a write is done, when its log records are written, when it closes. Between
 * those points its bytes only go down, so `held` is never below the truth.
 */
export class ReplyBudget {
  /** Bytes the connections have reported holding. */
  held = 0;
  /** Times a connection stopped reading because the server held `limit` bytes or more. */
  waits = 0;

  /** @param limit 0: no server-wide bound (each connection keeps its own). */
  constructor(readonly limit: number) {}

  /**
   * Whether a connection that holds `mine` bytes, `counted` of them already in `held`, must
   * run nothing more: the server is at its bound and this connection holds part of it. One
   * that holds nothing may always go on, so a client that reads its replies is served.
   */
  mustWait(mine: number, counted: number): boolean {
    return mine > 0 && this.limit > 0 && this.held - counted + mine >= this.limit;
  }
}
