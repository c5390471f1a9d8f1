/** Samples of a Prometheus text scrape by series: `name{a="x",b="y"}` (labels sorted) → value. */
export function parseScrape(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`not a sample line: ${line}`);
    const labels = match[2] === undefined ? [] : [...match[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => `${m[1]}="${m[2]}"`);
    const key = labels.length === 0 ? match[1]! : `${match[1]}{${labels.sort().join(',')}}`;
    if (samples.has(key)) throw new Error(`series twice in one scrape: ${key}`);
    samples.set(key, Number(match[3]));
  }
  return samples;
}

/** The series key of parseScrape for a metric and labels. */
export function series(name: string, labels: Record<string, string> = {}): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return parts.length === 0 ? name : `${name}{${parts.sort().join(',')}}`;
}

export async function get(url: string): Promise<{ status: number; type: string; body: string }> {
  const response = await fetch(url).catch((error: unknown) => Promise.reject(withCause(url, error)));
  return { status: response.status, type: response.headers.get('content-type') ?? '', body: await response.text() };
}

/** fetch says only 'fetch failed'; its cause says why (a refused connection, a socket closed under it). */
function withCause(url: string, error: unknown): Error {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return new Error(`GET ${url}: ${(error as Error).message} (${cause?.code ?? 'no code'}: ${cause?.message ?? 'no message'})`);
}
