import test from 'ava';
import { randomUUID } from 'node:crypto';
import { canonicalId, serverFor } from '../../src/client/index.js';
import { normalizeAddress } from '../../src/client/hashing.js';

const SERVERS = ['10.0.0.1:9922', '10.0.0.2:9922', '10.0.0.3:9922'];

test('canonicalId accepts the spellings the server accepts', (t) => {
  const canonical = '6ba7b810-9dad-41d1-80b4-00c04fd430c4';
  for (const spelling of [
    '6BA7B810-9DAD-41D1-80B4-00C04FD430C4',
    '6ba7b8109dad41d180b400c04fd430c4',
    '{6ba7b810-9dad-41d1-80b4-00c04fd430c4}',
    'urn:uuid:6ba7b810-9dad-41d1-80b4-00c04fd430c4',
    '6ba7b810-9dad-41d1-80b4-00c04fd430c4EXTRA',
    '-6ba7b810-9dad-41d1-80b4-00c04fd430c4',
  ]) {
    t.is(canonicalId(spelling), canonical, spelling);
  }
  for (const bad of ['short', '6ba7b810--9dad-41d1-80b4-00c04fd430c4', 'zba7b810-9dad-41d1-80b4-00c04fd430c4', 'urn:uuid:12345678-1234-4234-8234']) {
    t.is(canonicalId(bad), null, bad);
  }
});

test('the owner does not depend on list order or ID spelling, and is fixed across processes', (t) => {
  const id = '6ba7b810-9dad-41d1-80b4-00c04fd430c4';
  const owner = serverFor(SERVERS, id);
  t.is(serverFor([...SERVERS].reverse(), id), owner);
  t.is(serverFor([SERVERS[1]!, SERVERS[2]!, SERVERS[0]!], id.toUpperCase()), owner);
  t.is(serverFor(SERVERS, `{${id}}`), owner);
  // A golden value: a change of the hash would move every job of every deployment.
  t.is(owner, '10.0.0.2:9922');
});

test('jobs spread over the servers and removing one moves only its own jobs', (t) => {
  const counts = new Map<string, number>();
  let moved = 0;
  for (let i = 0; i < 3000; i++) {
    const id = randomUUID();
    const owner = serverFor(SERVERS, id);
    counts.set(owner, (counts.get(owner) ?? 0) + 1);
    const after = serverFor(SERVERS.slice(0, 2), id);
    if (owner !== SERVERS[2] && after !== owner) moved += 1;
  }
  for (const server of SERVERS) t.true((counts.get(server) ?? 0) > 800, `${server}: ${counts.get(server)}`);
  t.is(moved, 0);
});

test('addresses get the default port', (t) => {
  t.is(normalizeAddress('example.org'), 'example.org:9922');
  t.is(normalizeAddress(' 127.0.0.1:1 '), '127.0.0.1:1');
  t.is(normalizeAddress('[::1]'), '[::1]:9922');
});
