import { daysFromCivil, daysInMonth } from './calendar.js';

/**
 * Value syntax of docs/protocol.md 3. The `…At` parsers read a token in place,
 * `buf[start..end)`, as the decoder finds it in the received line; the others take the
 * token as latin1 text (flags, which the parser keeps as strings). Each returns the value,
 * or null when the token is not valid for the field (the caller picks the error text).
 * Range limits that the validation tables check later are not applied here.
 */

const ZERO = 0x30;
const DASH = 0x2d;
const PLUS = 0x2b;

/** Where the text forms put a token's bytes for the parsers: no allocation for tokens up to its size. */
const scratch = Buffer.allocUnsafe(256);

/** `text` (latin1) as bytes, in `scratch` when it fits; its length is the token's end. */
function bytesOf(text: string): Buffer {
  if (text.length > scratch.length) return Buffer.from(text, 'latin1');
  scratch.write(text, 0, 'latin1');
  return scratch;
}

/** Digits only, no sign, leading zeros allowed, value ≤ max (max < 2^53). */
function unsignedAt(buf: Buffer, start: number, end: number, max: number): number | null {
  if (start >= end) return null;
  let value = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i]! - ZERO;
    if (d < 0 || d > 9) return null;
    value = value * 10 + d;
    if (value > max) return null;
  }
  return value;
}

export function parseU16At(buf: Buffer, start: number, end: number): number | null {
  return unsignedAt(buf, start, end, 65535);
}

export function parseU32At(buf: Buffer, start: number, end: number): number | null {
  return unsignedAt(buf, start, end, 4294967295);
}

export function parseU8(text: string): number | null {
  return unsignedAt(bytesOf(text), 0, text.length, 255);
}

export function parseU16(text: string): number | null {
  return parseU16At(bytesOf(text), 0, text.length);
}

export function parseU32(text: string): number | null {
  return parseU32At(bytesOf(text), 0, text.length);
}

/**
 * Digits of `buf[start..end)`, compared exactly against `limit` (a decimal string) so that
 * the verdict at the edge of 64-bit ranges is exact; above 2^53 the returned number is
 * the nearest double, which no range check of the protocol can tell apart.
 */
function bigDigitsAt(buf: Buffer, start: number, end: number, limit: string): number | null {
  if (start >= end) return null;
  let first = -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i]! - ZERO;
    if (d < 0 || d > 9) return null;
    if (first < 0 && d !== 0) first = i;
    value = value * 10 + d;
  }
  if (first < 0) return 0;
  const significant = end - first;
  if (significant > limit.length) return null;
  if (significant === limit.length) {
    for (let i = 0; i < significant; i++) {
      const c = buf[first + i]!;
      const l = limit.charCodeAt(i);
      if (c !== l) {
        if (c > l) return null;
        break;
      }
    }
  }
  // Past 15 digits the running sum may round differently from the correctly rounded value.
  return significant > 15 ? Number(buf.toString('latin1', first, end)) : value;
}

/** u64: 0 … 18446744073709551615. */
export function parseU64At(buf: Buffer, start: number, end: number): number | null {
  return bigDigitsAt(buf, start, end, '18446744073709551615');
}

export function parseU64(text: string): number | null {
  return parseU64At(bytesOf(text), 0, text.length);
}

/** Optional sign, then digits, within ±(limit) where `negLimit` is the magnitude allowed below zero. */
function signedAt(buf: Buffer, start: number, end: number, posLimit: string, negLimit: string): number | null {
  const c = start < end ? buf[start] : -1;
  const negative = c === DASH;
  const from = negative || c === PLUS ? start + 1 : start;
  const magnitude = bigDigitsAt(buf, from, end, negative ? negLimit : posLimit);
  if (magnitude === null) return null;
  return negative ? 0 - magnitude : magnitude;
}

/** i32: optional `+`/`-`, digits, −2147483648 … 2147483647. */
export function parseI32(text: string): number | null {
  return signedAt(bytesOf(text), 0, text.length, '2147483647', '2147483648');
}

/** A block size: signed int64 text (docs/protocol.md 2.4 step 2). Out-of-int64 text is null. */
export function parseSizeAt(buf: Buffer, start: number, end: number): number | null {
  return signedAt(buf, start, end, '9223372036854775807', '9223372036854775808');
}

export function parseSize(text: string): number | null {
  return parseSizeAt(bytesOf(text), 0, text.length);
}

/** Hex digit values by byte, -1 for anything else. */
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[ZERO + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[0x41 + i] = 10 + i;
  HEX[0x61 + i] = 10 + i;
}

/** What each byte is in a canonical ID: 1 a lowercase hex digit, 2 a dash, 0 neither. */
const ID_BYTE = new Uint8Array(256);
for (let c = ZERO; c <= 0x39; c++) ID_BYTE[c] = 1;
for (let c = 0x61; c <= 0x66; c++) ID_BYTE[c] = 1;
ID_BYTE[DASH] = 2;
/** What each of the 36 bytes of a canonical ID must be (lowercase 8-4-4-4-12). */
const CANONICAL = new Uint8Array(36).fill(1);
for (const at of [8, 13, 18, 23]) CANONICAL[at] = 2;

function isCanonicalAt(buf: Buffer, start: number): boolean {
  for (let i = 0; i < 36; i++) if (ID_BYTE[buf[start + i]!] !== CANONICAL[i]) return false;
  return true;
}

const GROUPS = [8, 4, 4, 4, 12];
const URN = [0x75, 0x72, 0x6e, 0x3a, 0x75, 0x75, 0x69, 0x64, 0x3a];

function startsWithUrn(buf: Buffer, start: number): boolean {
  for (let i = 0; i < URN.length; i++) if (buf[start + i] !== URN[i]) return false;
  return true;
}

/**
 * Job ID syntax (docs/protocol.md 3.2), as leniently as the original: optional `urn:uuid:` or
 * `{`, an optional `-` before each of the five groups, anything after the 32nd digit
 * ignored. Returns the canonical lowercase 8-4-4-4-12 form, or null. Input that ends at a
 * group boundary (which crashes the original) is simply invalid.
 */
export function parseJobIdAt(buf: Buffer, start: number, end: number): string | null {
  const n = end - start;
  if (n < 32) return null;
  if (n === 36 && isCanonicalAt(buf, start)) return buf.toString('latin1', start, end);
  let p = n >= URN.length && startsWithUrn(buf, start) ? start + URN.length : buf[start] === 0x7b ? start + 1 : start;
  let canonical = '';
  for (let g = 0; g < GROUPS.length; g++) {
    if (p >= end) return null;
    if (buf[p] === DASH) p++;
    const size = GROUPS[g]!;
    if (p + size > end) return null;
    for (let i = p; i < p + size; i++) if (HEX[buf[i]!]! < 0) return null;
    canonical += (g === 0 ? '' : '-') + buf.toString('latin1', p, p + size).toLowerCase();
    p += size;
  }
  return canonical;
}

export function parseJobId(text: string): string | null {
  return parseJobIdAt(bytesOf(text), 0, text.length);
}

/** Version 4 with the RFC 4122 variant, on a canonical ID (this also rules out the nil ID). */
export function isV4Id(canonical: string): boolean {
  if (canonical.charCodeAt(14) !== 0x34) return false;
  const v = canonical.charCodeAt(19);
  return v === 0x38 || v === 0x39 || v === 0x61 || v === 0x62;
}

export interface ScheduleTime {
  /** Unix seconds (negative before 1970). */
  sec: number;
  /** 0 … 999999999. */
  nsec: number;
}

function digit(text: string, i: number): number {
  const d = text.charCodeAt(i) - ZERO;
  return d >= 0 && d <= 9 ? d : -1;
}

/** Exactly two digits at i, or -1. */
function twoDigits(text: string, i: number): number {
  const a = digit(text, i);
  const b = digit(text, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

/**
 * A schedule time `YYYY-MM-DDTHH:MM:SSZ` with the original's exact leniency
 * (docs/protocol.md 3.4): a one-digit hour, an optional `.`/`,` fraction of which the first 9
 * digits count, strict month lengths, `Z` last.
 */
export function parseTime(text: string): ScheduleTime | null {
  const n = text.length;
  if (n < 19) return null;
  let year = 0;
  for (let i = 0; i < 4; i++) {
    const d = digit(text, i);
    if (d < 0) return null;
    year = year * 10 + d;
  }
  if (text.charCodeAt(4) !== DASH || text.charCodeAt(7) !== DASH || text.charCodeAt(10) !== 0x54) return null;
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  let p = 11;
  let hour = digit(text, p++);
  if (hour < 0) return null;
  const hourLow = digit(text, p);
  if (hourLow >= 0) {
    hour = hour * 10 + hourLow;
    p++;
  }
  if (hour > 23 || text.charCodeAt(p) !== 0x3a) return null;
  const minute = twoDigits(text, p + 1);
  if (minute < 0 || minute > 59 || text.charCodeAt(p + 3) !== 0x3a) return null;
  const second = twoDigits(text, p + 4);
  if (second < 0 || second > 59) return null;
  p += 6;
  let nsec = 0;
  const sep = text.charCodeAt(p);
  if ((sep === 0x2e || sep === 0x2c) && digit(text, p + 1) >= 0) {
    p++;
    let kept = 0;
    for (; p < n && digit(text, p) >= 0; p++) {
      if (kept < 9) {
        nsec = nsec * 10 + digit(text, p);
        kept++;
      }
    }
    for (; kept < 9; kept++) nsec *= 10;
  }
  if (p !== n - 1 || text.charCodeAt(p) !== 0x5a) return null;
  return { sec: daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second, nsec };
}
