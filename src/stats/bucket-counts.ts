/**
 * A histogram's running state as plain numbers: one count per bucket, a sum and a
 * total, updated in place by `observe`. Hot paths (a lease handed out, an fsync done)
 * record into it without allocating; a scrape reads it as it stands.
 */
export class BucketCounts {
  /** counts[i] holds the observations in (bounds[i-1], bounds[i]]; the last slot those above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i]! += 1;
    this.sum += value;
    this.count++;
  }
}

/** Seconds, from a millisecond to about a minute: lease waits and fsyncs alike. */
export const SECONDS_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
