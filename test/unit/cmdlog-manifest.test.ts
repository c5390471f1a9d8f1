import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { openCommandLog } from '../../src/cmdlog/command-log.js';
import { CmdlogMissingSegmentsError, CmdlogRefusalError, isCmdlogRefusal } from '../../src/cmdlog/errors.js';
import { compareWithManifest, formatManifest, formatRanges, MANIFEST_NAME, parseManifest } from '../../src/cmdlog/manifest.js';
import { segmentNumber } from '../../src/cmdlog/segment-files.js';
import type { CommandLog, CommandLogOptions } from '../../src/cmdlog/types.js';
import { captureLogger, FaultyFs, makeJob, newId, openRefused, RecordingEngine, segmentFiles, tempDir } from '../helpers/cmdlog-fakes.js';
import { idPayload, jobPayload, record, RecordType, restoredJob, segment } from '../helpers/cmdlog-records.js';

const NOW_SEC = Math.floor(Date.now() / 1000);

/** One record per segment, as the original's own system test runs it (-cmdlog-seg-size 15). */
function options(dir: string, extra: Partial<CommandLogOptions> = {}): CommandLogOptions {
  return { dir, sync: 'interval', syncIntervalMs: 1000, segmentSize: 15, cleanIntervalMs: 300000, logger: captureLogger().logger, ...extra };
}

function durable(log: CommandLog): Promise<void> {
  return new Promise((resolve) => log.whenDurable(log.lastSeq, resolve));
}

function manifestOf(dir: string): number[] | null {
  return parseManifest(fs.readFileSync(path.join(dir, MANIFEST_NAME), 'utf8'));
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A log of `n` one-record segments (adds of jobs that stay live), written and closed by the log itself. */
async function writeLog(dir: string, n: number, extra: Partial<CommandLogOptions> = {}): Promise<string[]> {
  const log = await openCommandLog(options(dir, extra), new RecordingEngine());
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const job = makeJob({ ttl: 3_600_000 });
    ids.push(job.id);
    log.add(job);
    await durable(log);
  }
  await log.close();
  return ids;
}

const seg = (num: number): string => `${String(num).padStart(9, '0')}.log`;

test('ranges: written compactly, read back exactly; anything else is no manifest', (t) => {
  for (const nums of [[], [7], [1, 2, 3, 4, 5, 7, 9, 10, 11, 12], range(1, 2000), [3, 5, 999_999_999]]) {
    t.deepEqual(parseManifest(formatManifest(nums)), nums);
  }
  t.is(formatRanges([1, 2, 3, 4, 5, 7, 9, 10, 11, 12]), '1-5,7,9-12');
  t.true(formatManifest(range(1, 2000)).length < 100);
  for (const bad of [
    '',
    'not json',
    '{}',
    '{"format":"workq-cmdlog-manifest","version":2,"segments":"1"}',
    '{"format":"workq-cmdlog-manifest","version":1,"segments":"3-1"}',
    '{"format":"workq-cmdlog-manifest","version":1,"segments":"1-5,4"}',
    '{"format":"workq-cmdlog-manifest","version":1,"segments":"1-999999999"}',
    '{"format":"workq-cmdlog-manifest","version":1,"segments":"1,x"}',
  ]) {
    t.is(parseManifest(bad), null, bad);
  }
});

test('its name and the .torn files are not segments to the original server (docs/command-log.md 3)', (t) => {
  for (const name of [MANIFEST_NAME, `${MANIFEST_NAME}.new`, '000000004.log.torn', '000000004.log.torn.2']) t.is(segmentNumber(name), -1, name);
});

test('compared with the directory: missing, adopted above, unlisted below', (t) => {
  t.deepEqual(compareWithManifest([3, 4, 5, 6], [3, 5, 6, 7, 8]), { missing: [4], above: [7, 8], unlisted: [] });
  t.deepEqual(compareWithManifest([3, 6], [2, 3, 4, 6]), { missing: [], above: [], unlisted: [2, 4] });
  t.deepEqual(compareWithManifest([], [1, 2]), { missing: [], above: [1, 2], unlisted: [] });
});

test('the log keeps the manifest: every segment it creates is listed by the time it closes', async (t) => {
  const dir = tempDir();
  await writeLog(dir, 6);
  t.deepEqual(segmentFiles(dir), range(1, 6).map(seg));
  t.deepEqual(manifestOf(dir), range(1, 6));
});

for (const [where, gone] of [
  ['first', [1]],
  ['middle', [3]],
  ['last', [6]],
  ['several', [2, 3, 4, 6]],
] as const) {
  test(`a deleted ${where} segment refuses the start, naming what is missing; the lock is released`, async (t) => {
    const dir = tempDir();
    const ids = await writeLog(dir, 6);
    for (const num of gone) fs.rmSync(path.join(dir, seg(num)));
    const engine = new RecordingEngine();
    const err = await t.throwsAsync(openRefused(openCommandLog(options(dir), engine)), { instanceOf: CmdlogMissingSegmentsError });
    t.is(err?.code, 'ECMDLOG_MISSING');
    t.true(isCmdlogRefusal(err));
    t.deepEqual(err?.missing, [...gone]);
    t.is(err?.file, path.join(dir, seg(gone[0])));
    for (const num of gone) t.true(err.message.includes(seg(num)) || where === 'several', err.message);
    if (where === 'several') t.regex(err.message, /4 segments 000000002\.log … 000000004\.log, 000000006\.log listed in cmdlog\.manifest are missing/);
    t.regex(err.message, /move .*cmdlog\.manifest away/);
    t.is(engine.calls.length, 0, 'nothing replayed');
    // Accepting the loss: without the manifest the segments present are replayed, and listed anew.
    fs.renameSync(path.join(dir, MANIFEST_NAME), path.join(dir, 'kept.manifest'));
    const again = new RecordingEngine();
    await (await openCommandLog(options(dir), again)).close();
    t.deepEqual(
      again.calls.map((c) => c[1]),
      ids.filter((_, i) => !(gone as readonly number[]).includes(i + 1)),
    );
    t.deepEqual(
      manifestOf(dir),
      range(1, 6).filter((n) => !(gone as readonly number[]).includes(n)),
    );
  });
}

test('segments the cleaner deleted are no longer listed: the log opens again, and a gap at the start is no damage', async (t) => {
  const dir = tempDir();
  const log = await openCommandLog(options(dir), new RecordingEngine());
  // Expire records of unknown IDs can go at once: the segments holding them empty out.
  for (let i = 0; i < 5; i++) {
    log.expire(newId());
    await durable(log);
  }
  const kept = makeJob({ ttl: 3_600_000 });
  log.add(kept);
  await durable(log);
  await log.cleanNow();
  await log.close();
  t.deepEqual(segmentFiles(dir), [seg(6)]);
  t.deepEqual(manifestOf(dir), [6]);
  const engine = new RecordingEngine();
  await (await openCommandLog(options(dir), engine)).close();
  t.deepEqual(
    engine.calls.map((c) => c[1]),
    [kept.id],
  );
  fs.rmSync(path.join(dir, seg(6)));
  const err = await t.throwsAsync(openRefused(openCommandLog(options(dir), new RecordingEngine())), { instanceOf: CmdlogMissingSegmentsError });
  t.deepEqual(err?.missing, [6]);
});

test('the manifest stops listing a segment before the cleaner deletes it: an interrupted pass leaves a segment to replay, never a listed one missing', async (t) => {
  const dir = tempDir();
  const faulty = new FaultyFs();
  const log = await openCommandLog(options(dir, { fs: faulty }), new RecordingEngine());
  const expired = newId();
  log.expire(expired);
  await durable(log);
  log.add(makeJob({ ttl: 3_600_000 }));
  await durable(log);
  // A crash between the manifest and the unlink, played by an unlink that fails.
  const unlink = faulty.unlinkSync.bind(faulty);
  faulty.unlinkSync = (p: string) => {
    if (p.endsWith(seg(1))) throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
    unlink(p);
  };
  await log.cleanNow();
  await log.close();
  t.deepEqual(manifestOf(dir), [2]);
  t.deepEqual(segmentFiles(dir), [seg(1), seg(2)]);
  const { logger, lines } = captureLogger();
  const engine = new RecordingEngine();
  await (await openCommandLog(options(dir, { logger }), engine)).close();
  t.deepEqual(engine.calls[0], ['expire', expired]);
  t.true(lines.some((l) => l.level === 40 && String(l.msg).includes('does not list') && l.segments === seg(1)));
  t.deepEqual(manifestOf(dir), [1, 2]);
});

test('segments above the manifest (the original server appended and rotated after us, or a crash came before the manifest caught up) are adopted', async (t) => {
  const dir = tempDir();
  const ids = await writeLog(dir, 3);
  const later = [newId(), newId()];
  for (const [i, id] of later.entries()) {
    fs.writeFileSync(
      path.join(dir, seg(4 + i)),
      segment(record(NOW_SEC, 0, jobPayload(RecordType.Add, restoredJob({ id, createdSec: NOW_SEC, ttl: 3_600_000 })))),
    );
  }
  // The original also appends to the segment that was highest here.
  fs.appendFileSync(path.join(dir, seg(3)), record(NOW_SEC, 0, idPayload(RecordType.Delete, ids[0]!)));
  const { logger, lines } = captureLogger();
  const engine = new RecordingEngine();
  await (await openCommandLog(options(dir, { logger }), engine)).close();
  t.deepEqual(
    engine.calls.map((c) => c[1]),
    [...ids, ids[0], ...later],
  );
  t.true(lines.some((l) => l.level === 30 && String(l.msg).includes('above')));
  t.deepEqual(manifestOf(dir), range(1, 5));
});

test("a directory without a manifest (the original server's) replays as it is, gaps included, and gets one", async (t) => {
  const dir = tempDir();
  const a = newId();
  const b = newId();
  const add = (id: string): Buffer => record(NOW_SEC, 0, jobPayload(RecordType.Add, restoredJob({ id, createdSec: NOW_SEC, ttl: 3_600_000 })));
  fs.writeFileSync(path.join(dir, seg(7)), segment(add(a)));
  fs.writeFileSync(path.join(dir, seg(9)), segment(add(b)));
  const { logger, lines } = captureLogger();
  const engine = new RecordingEngine();
  await (await openCommandLog(options(dir, { logger }), engine)).close();
  t.deepEqual(
    engine.calls.map((c) => c[1]),
    [a, b],
  );
  t.true(lines.some((l) => String(l.msg).includes('no segment manifest')));
  t.deepEqual(manifestOf(dir), [7, 9]);
});

test('a damaged manifest refuses the start, naming it', async (t) => {
  const dir = tempDir();
  await writeLog(dir, 2);
  fs.writeFileSync(path.join(dir, MANIFEST_NAME), '{"format":"workq-cmdlog-manifest","version":1,"segm');
  const err = await t.throwsAsync(openRefused(openCommandLog(options(dir), new RecordingEngine())), { instanceOf: CmdlogRefusalError });
  t.is(err?.code, 'ECMDLOG_MANIFEST');
  t.is(err?.file, path.join(dir, MANIFEST_NAME));
  t.regex(err.message, /damaged/);
});

test('a new segment is listed only after the directory fsync that made it durable, by temporary file, fsync and rename', async (t) => {
  const dir = tempDir();
  const faulty = new FaultyFs();
  await writeLog(dir, 2, { fs: faulty, sync: 'os' });
  const names = faulty.fsyncedPaths.map((p) => (p === dir ? 'dir' : path.basename(p)));
  const first = names.indexOf(`${MANIFEST_NAME}.new`);
  t.true(first > 0);
  t.is(names[first - 1], 'dir');
  t.is(names[first + 1], 'dir');
  t.false(fs.existsSync(path.join(dir, `${MANIFEST_NAME}.new`)));
});

test('a leftover temporary manifest is removed at start', async (t) => {
  const dir = tempDir();
  await writeLog(dir, 1);
  fs.writeFileSync(path.join(dir, `${MANIFEST_NAME}.new`), '{"format"');
  await (await openCommandLog(options(dir), new RecordingEngine())).close();
  t.false(fs.existsSync(path.join(dir, `${MANIFEST_NAME}.new`)));
  t.deepEqual(manifestOf(dir), [1]);
});
