import { createHash } from 'node:crypto';

/**
 * Which server a job lives on: rendezvous (highest random weight) hashing of the job's
 * canonical ID against each address string. Every client with the same address set
 * picks the same server whatever the list order, and removing one server moves only the
 * jobs that lived there.
 */

/**
 * The canonical 8-4-4-4-12 lowercase form of an ID written in any of the spellings the
 * server accepts (docs/protocol.md 3.2), so that `{ABC…}` and `abc…` land on the same server;
 * null when the server would reject the syntax.
 */
export function canonicalId(id: string): string | null {
  if (id.length < 32) return null;
  let i = id.startsWith('urn:uuid:') ? 9 : id[0] === '{' ? 1 : 0;
  const groups: string[] = [];
  for (const size of [8, 4, 4, 4, 12]) {
    if (id[i] === '-') i += 1;
    const group = id.slice(i, i + size).toLowerCase();
    if (group.length !== size) return null;
    for (let k = 0; k < size; k++) {
      const c = group.charCodeAt(k);
      if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return null;
    }
    groups.push(group);
    i += size;
  }
  return groups.join('-');
}

function weight(server: string, key: string): Buffer {
  return createHash('sha256').update(server).update('\n').update(key).digest();
}

/** The server among `servers` that owns `id`. */
export function serverFor(servers: readonly string[], id: string): string {
  const first = servers[0];
  if (first === undefined) throw new RangeError('no servers');
  if (servers.length === 1) return first;
  const key = canonicalId(id) ?? id;
  let best = first;
  let bestWeight = weight(first, key);
  for (let i = 1; i < servers.length; i++) {
    const server = servers[i] as string;
    const w = weight(server, key);
    const order = w.compare(bestWeight);
    if (order > 0 || (order === 0 && server < best)) {
      best = server;
      bestWeight = w;
    }
  }
  return best;
}

/** `host:port` with the default port 9922 filled in; IPv6 hosts are written `[::1]:9922`. */
export function normalizeAddress(address: string): string {
  const trimmed = address.trim();
  if (trimmed.startsWith('[')) return trimmed.includes(']:') ? trimmed : `${trimmed}:9922`;
  return trimmed.includes(':') ? trimmed : `${trimmed}:9922`;
}

export function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(colon + 1)) };
}
