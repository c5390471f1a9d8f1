/** Renders result rows as the markdown table kept in bench/results/latest.md. */
import type { Row } from './workloads.js';

function num(v: number | null, digits: number): string {
  if (v === null || !Number.isFinite(v)) return '—';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ratio(row: Row): string {
  if (row.workq === null || row.beanstalkd === null || row.beanstalkd === 0) return '—';
  return (row.workq / row.beanstalkd).toFixed(2);
}

export function markdownTable(rows: Row[]): string {
  const lines = ['| workload | metric | Workq-TS | beanstalkd | workq/beanstalkd | notes |', '| --- | --- | ---: | ---: | ---: | --- |'];
  for (const row of rows) {
    const cells = [row.workload, row.metric, num(row.workq, row.digits), num(row.beanstalkd, row.digits), ratio(row), row.note];
    lines.push(`| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`);
  }
  return lines.join('\n');
}
