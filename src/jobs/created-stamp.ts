/**
 * Hands out strictly increasing created times, (seconds, nanoseconds), from a ms clock:
 * jobs created within one millisecond get consecutive nanoseconds, so FIFO (docs/protocol.md
 * 7.2 key 3) holds among them and never goes backwards when the clock does.
 */
export class CreatedStamp {
  private ms = -Infinity;
  /** Nanoseconds within `ms` of the last stamp. */
  private sub = 0;
  /** The last stamp handed out by `next`. */
  sec = 0;
  nsec = 0;

  next(now: number): void {
    const ms = Math.floor(now);
    if (ms > this.ms) {
      this.ms = ms;
      this.sub = 0;
    } else if (++this.sub === 1e6) {
      this.ms++;
      this.sub = 0;
    }
    this.sec = Math.floor(this.ms / 1000);
    this.nsec = (this.ms - this.sec * 1000) * 1e6 + this.sub;
  }

  /** Makes later stamps come after a created time read back from the log. */
  observe(sec: number, nsec: number): void {
    const ms = sec * 1000 + Math.floor(nsec / 1e6);
    const sub = nsec % 1e6;
    if (ms > this.ms || (ms === this.ms && sub > this.sub)) {
      this.ms = ms;
      this.sub = sub;
    }
  }
}
