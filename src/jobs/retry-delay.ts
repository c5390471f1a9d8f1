/**
 * Retry delays (docs/protocol-extensions.md): how long a job retried after a lease (a
 * `fail` under max-fails, or a TTR timeout) waits before it is ready again.
 */
export interface RetryDelay {
  /** Before the first retry; 0: no delay. */
  readonly delayMs: number;
  /** Above 0: the delay doubles per retry up to this cap; 0: every retry waits delayMs. */
  readonly maxDelayMs: number;
  /** 0–100: each delay is shortened by a random share of up to this percentage. */
  readonly jitterPercent: number;
}

export const NO_RETRY_DELAY: RetryDelay = Object.freeze({ delayMs: 0, maxDelayMs: 0, jitterPercent: 0 });

/** The wait before retry number `retry` (1 for the first), `random()` in [0, 1). */
export function retryDelayMs(delay: RetryDelay, retry: number, random: () => number): number {
  let ms = delay.delayMs;
  if (ms === 0) return 0;
  if (delay.maxDelayMs > 0) ms = Math.min(delay.maxDelayMs, ms * 2 ** Math.min(Math.max(retry, 1) - 1, 32));
  if (delay.jitterPercent > 0) ms -= Math.floor((ms * delay.jitterPercent * random()) / 100);
  return ms;
}
