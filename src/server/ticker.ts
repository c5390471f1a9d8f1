import type { DeadlineDriven } from '../jobs/types.js';

/** setTimeout takes at most a signed 32-bit delay; a later deadline is reached in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * Drives every deadline of the engine with a single timer, armed at the earliest one.
 * `sync()` is cheap (one comparison) and is called after every batch of commands, since
 * any command may have created an earlier deadline.
 */
export class Ticker {
  private timer: NodeJS.Timeout | null = null;
  private armedAt = Infinity;
  private stopped = false;

  constructor(
    private readonly engine: DeadlineDriven,
    private readonly now: () => number,
  ) {}

  sync(): void {
    if (this.stopped) return;
    const next = this.engine.nextDeadline();
    if (next >= this.armedAt) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.armedAt = next;
    if (next === Infinity) {
      this.timer = null;
      return;
    }
    this.timer = setTimeout(this.fire, Math.min(MAX_DELAY_MS, Math.max(0, Math.ceil(next - this.now()))));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.armedAt = Infinity;
  }

  private readonly fire = (): void => {
    this.timer = null;
    this.armedAt = Infinity;
    this.engine.tick(this.now());
    this.sync();
  };
}
