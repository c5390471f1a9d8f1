/**
 * When each record stops mattering (CMDLOG.md 11.4 Do). An add/schedule record matters
 * until its job's expiration; any other record for an ID matters until every
 * add/schedule for that ID before it in the log has expired. Both are known when the
 * record is appended or replayed, in log order, so every record gets a fixed "droppable
 * after" instant and the cleaner never has to re-read the log to decide.
 */
export class DropBook {
  /** Latest expiration among the add/schedule records seen so far, per ID. */
  private readonly expirations = new Map<string, number>();

  /** Notes an add/schedule record; returns when it becomes droppable. */
  job(id: string, expiresAt: number): number {
    const seen = this.expirations.get(id);
    if (seen === undefined || seen < expiresAt) this.expirations.set(id, expiresAt);
    return expiresAt;
  }

  /** When a non-job record for `id` appended now becomes droppable (0: already). */
  other(id: string): number {
    return this.expirations.get(id) ?? 0;
  }

  /** Forgets expirations before `now`: for every later record they count as none. */
  prune(now: number): void {
    for (const [id, at] of this.expirations) if (at < now) this.expirations.delete(id);
  }
}

/** A sealed (read-only) segment as the cleaner tracks it. */
export interface SealedSegment {
  num: number;
  size: number;
  /** Droppable-after instant (Unix ms) of each record, in file order. */
  dropAt: Float64Array;
}
