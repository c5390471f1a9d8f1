/**
 * When to restart a server that exited unexpectedly. The first crash in a window is
 * restarted at once: the primary saw the child die, so there is nothing to wait for.
 * Repeated crashes back off (base, 2×base, … up to cap), and a server that crashed more
 * than maxRestarts times within windowMs is left down.
 */
export class RestartPolicy {
  private crashes: number[] = [];

  constructor(
    private readonly maxRestarts: number,
    private readonly windowMs: number,
    private readonly baseMs = 100,
    private readonly capMs = 10_000,
  ) {}

  /** Records a crash at `now`; returns the delay before the restart, or null to leave it down. */
  onCrash(now: number): number | null {
    this.crashes = this.crashes.filter((at) => now - at < this.windowMs);
    this.crashes.push(now);
    const recent = this.crashes.length;
    if (recent > this.maxRestarts) return null;
    if (recent === 1) return 0;
    return Math.min(this.capMs, this.baseMs * 2 ** (recent - 2));
  }

  /** Forgets past crashes (a deliberate restart gives a failed server a fresh start). */
  reset(): void {
    this.crashes = [];
  }
}
