import type { Metric, Registry } from 'prom-client';

/** One value of a metric: its labels and its number. */
export interface Reading {
  labels: Record<string, string | number>;
  value: number;
}

interface ReadingsSpec {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  /** Called at each scrape; the values are those of the moment. */
  read: () => Reading[] | Promise<Reading[]>;
}

/**
 * Registers a counter or gauge whose values are read when a scrape asks: the counting
 * itself is plain integer fields that the server increments, never a prom-client call on
 * the hot path. Aggregated across cluster children by summing (each child's values carry
 * its own instance label, so nothing is actually added up).
 */
export function registerReadings(registry: Registry, spec: ReadingsSpec): void {
  const { name, help, type, read } = spec;
  const get = async (): Promise<{ name: string; help: string; type: string; aggregator: string; values: Reading[] }> => ({
    name,
    help,
    type,
    aggregator: 'sum',
    values: await read(),
  });
  registry.registerMetric({ name, help, type, aggregator: 'sum', get } as unknown as Metric);
}

/** A single unlabelled value. */
export function one(value: number): Reading[] {
  return [{ labels: {}, value }];
}
