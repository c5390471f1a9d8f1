import { BucketCounts, SECONDS_BUCKETS } from '../stats/bucket-counts.js';

/** Where a replay stands; the metrics show it while the server starts. */
export class ReplayProgress {
  /** Bytes of every segment found at the start. */
  bytesTotal = 0;
  /** Bytes of segments replayed so far, updated every few milliseconds of replay. */
  bytesDone = 0;
  records = 0;
  /** performance.now() at the start and the end (0 while not started or not done). */
  startedAt = 0;
  endedAt = 0;
}

/**
 * What the command log counts for the metrics: plain numbers it updates in place, read
 * when a scrape asks.
 */
export class LogStats {
  readonly replay = new ReplayProgress();
  bytesWritten = 0;
  cleaningRuns = 0;
  readonly fsyncSeconds = new BucketCounts(SECONDS_BUCKETS);
}
