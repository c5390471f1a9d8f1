/**
 * Replies up to this size never wait for room: a client that reads its replies must be
 * served while others hold the whole bound, and each connection that holds nothing adds
 * at most one of them beyond it (one that holds some waits, mustWait).
 */
export const SMALL_REPLY = 4096;

/** A connection that put off building a large reply until the server holds fewer reply bytes. */
export interface ReplyWaiter {
  /** Bytes the reply it put off may take. */
  readonly replyNeed: number;
  /** The server holds fewer bytes than when it stopped: it checks again, and waits again if still needed. */
  replyRoom(): void;
}

/**
 * Reply bytes held by all the connections of one server, against limits.maxReplyBufferBytes
 * (docs/protocol.md 12.3). Each connection adds what it holds (replies built and not yet
 * taken by its socket) at the points where that changes: after a batch of replies is handed
 * over, when a write is done, when its log records are written, when it closes. Between
 * those points its bytes only go down, so `held` is never below the truth.
 *
 * A listing larger than SMALL_REPLY is built only if it fits under the bound, or if no
 * connection holds anything: so what is held stays within the bound plus one such reply
 * (and SMALL_REPLY per connection), however many clients do not read.
 */
export class ReplyBudget {
  /** Bytes the connections have reported holding. */
  held = 0;
  /** Times a connection stopped reading because the server held `limit` bytes or more, or had no room for a large reply. */
  waits = 0;
  /** Connections waiting for room, oldest first. */
  private readonly waiters: ReplyWaiter[] = [];
  private wakeQueued = false;

  /** @param limit 0: no server-wide bound (each connection keeps its own). */
  constructor(readonly limit: number) {}

  /**
   * Whether a connection that holds `mine` bytes, `counted` of them already in `held`, must
   * run nothing more: the server is at its bound and this connection holds part of it. One
   * that holds nothing may always go on with small replies, so a client that reads its replies is served.
   */
  mustWait(mine: number, counted: number): boolean {
    return mine > 0 && this.limit > 0 && this.held - counted + mine >= this.limit;
  }

  /** Whether a connection holding `mine` bytes (`counted` of them in `held`) may build a reply of up to `size` bytes now. */
  fits(size: number, mine: number, counted: number): boolean {
    if (this.limit === 0 || size <= SMALL_REPLY) return true;
    const total = this.held - counted + mine;
    return total === 0 || total + size <= this.limit;
  }

  /** Records that a connection's holding went from `before` to `now` bytes. */
  share(now: number, before: number): void {
    this.held += now - before;
    if (now < before) this.recheck();
  }

  /** Checks the waiters again in a later turn (a waiter may have stopped on bytes that never reached `held`). */
  recheck(): void {
    if (this.waiters.length === 0 || this.wakeQueued) return;
    this.wakeQueued = true;
    setImmediate(this.wake);
  }

  /** `waiter` is woken, in order of arrival, once its reply fits. */
  wait(waiter: ReplyWaiter): void {
    this.waits++;
    this.waiters.push(waiter);
  }

  /** A closed connection waits no more. */
  leave(waiter: ReplyWaiter): void {
    const at = this.waiters.indexOf(waiter);
    if (at >= 0) this.waiters.splice(at, 1);
  }

  /**
   * Wakes the waiters whose replies fit, oldest first, stopping at the first that does not:
   * a large listing is not passed for ever by smaller ones. Each woken one builds its reply
   * (raising `held`) before the next is checked.
   */
  private readonly wake = (): void => {
    this.wakeQueued = false;
    for (let n = this.waiters.length; n > 0 && this.waiters.length > 0; n--) {
      const next = this.waiters[0]!;
      if (this.held !== 0 && this.held + next.replyNeed > this.limit) return;
      this.waiters.shift();
      next.replyRoom();
    }
  };
}
