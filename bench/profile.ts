/**
 * Summarises a V8 `.cpuprofile` (written by `node --cpu-prof`) as the functions with the
 * most self time, the figure that says where a hot path spends its CPU.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  ms: number;
  /** Share of the busy (non-idle) time. */
  share: number;
}

function shortUrl(url: string, root: string): string {
  const file = url.startsWith('file://') ? url.slice(7) : url;
  return file.startsWith(root) ? path.relative(root, file) : file;
}

export function topSelfTime(file: string, root: string, limit: number): SelfTime[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, SelfTime>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)!.callFrame;
    const us = profile.timeDeltas[i] ?? 0;
    if (frame.functionName === '(idle)') return;
    busy += us;
    // Code run through tsx reports line 0 for everything: show a line only when it means something.
    const line = frame.lineNumber > 0 ? `:${frame.lineNumber + 1}` : '';
    const where = frame.url ? `${shortUrl(frame.url, root)}${line}` : '';
    const key = `${frame.functionName}@${where}`;
    const entry = totals.get(key) ?? { name: frame.functionName || '(anonymous)', where, ms: 0, share: 0 };
    entry.ms += us / 1000;
    totals.set(key, entry);
  });
  const sorted = [...totals.values()].sort((a, b) => b.ms - a.ms).slice(0, limit);
  for (const e of sorted) e.share = (e.ms * 1000) / busy;
  return sorted;
}

export function selfTimeTable(entries: SelfTime[]): string {
  const lines = ['| self ms | share of busy | function | where |', '| ---: | ---: | --- | --- |'];
  for (const e of entries) {
    lines.push(`| ${e.ms.toFixed(0)} | ${(e.share * 100).toFixed(1)}% | ${e.name} | ${e.where} |`);
  }
  return lines.join('\n');
}
