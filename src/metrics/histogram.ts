import type { Metric, Registry } from 'prom-client';
import type { BucketCounts } from '../stats/bucket-counts.js';

interface HistogramSpec {
  name: string;
  help: string;
  counts: BucketCounts;
}

/** One sample as prom-client's registry prints and aggregates it. */
interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/**
 * Registers a Prometheus histogram whose buckets are read from BucketCounts when a
 * scrape asks: the code that observes never calls prom-client, and a scrape costs one
 * value per bucket, however many observations there were.
 */
export function registerBucketHistogram(registry: Registry, spec: HistogramSpec): void {
  const { name, help, counts } = spec;
  const get = (): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> => {
    const values: Sample[] = [];
    let cumulative = 0;
    counts.bounds.forEach((bound, i) => {
      cumulative += counts.counts[i]!;
      values.push({ labels: { le: bound }, value: cumulative, metricName: `${name}_bucket` });
    });
    values.push({ labels: { le: '+Inf' }, value: counts.count, metricName: `${name}_bucket` });
    values.push({ labels: {}, value: counts.sum, metricName: `${name}_sum` });
    values.push({ labels: {}, value: counts.count, metricName: `${name}_count` });
    return Promise.resolve({ name, help, type: 'histogram', aggregator: 'sum', values });
  };
  registry.registerMetric({ name, help, type: 'histogram', aggregator: 'sum', get } as unknown as Metric);
}
