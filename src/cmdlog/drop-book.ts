/**
 * When each record stops mattering (CMDLOG.md 11.4 Do). An add/schedule record matters
 * until its job's expiration; any other record for an ID matters until every
 * add/schedule for that ID before it in the log has expired. Both are known when the
 * record is appended or replayed, in log order, so every record gets a fixed "droppable
 * after" instant and the cleaner never has to re-read the log to decide.
 */
export class DropBook {
  /**
   * Latest expiration among the add/schedule records seen so far, per ID, in whole Unix
   * seconds rounded up: small integers, where ms would cost each live job a 16-byte heap
   * number. Other records for an ID are so kept up to a second longer, never shorter.
   */
  private readonly expirations = new Map<string, number>();

  /** Notes an add/schedule record; returns when it becomes droppable. */
  job(id: string, expiresAt: number): number {
    const sec = Math.ceil(expiresAt / 1000);
    const seen = this.expirations.get(id);
    if (seen === undefined || seen < sec) this.expirations.set(id, sec);
    return expiresAt;
  }

  /** When a non-job record for `id` appended now becomes droppable (0: already). */
  other(id: string): number {
    const sec = this.expirations.get(id);
    return sec === undefined ? 0 : sec * 1000;
  }

  /** Forgets expirations before `now`: for every later record they count as none. */
  prune(now: number): void {
    for (const [id, sec] of this.expirations) if (sec * 1000 < now) this.expirations.delete(id);
  }
}

/** A sealed (read-only) segment as the cleaner tracks it. */
export interface SealedSegment {
  num: number;
  size: number;
  /** Droppable-after instant (Unix ms) of each record, in file order. */
  dropAt: Float64Array;
}
