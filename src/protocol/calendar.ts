/**
 * Proleptic Gregorian day arithmetic on plain integers. Date.UTC maps years 0–99 to
 * 1900–1999, and schedule times may name any four-digit year, so we count days ourselves.
 */

/** Days from 1970-01-01 to the given date (month 1–12). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : MONTH_DAYS[month - 1]!;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** `YYYY-MM-DDTHH:MM:SSZ` for whole Unix seconds, UTC, as the wire prints times (docs/protocol.md 6.1). */
export function formatUtcSeconds(unixSec: number): string {
  const days = Math.floor(unixSec / 86400);
  const secOfDay = unixSec - days * 86400;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hour = Math.floor(secOfDay / 3600);
  const minute = Math.floor((secOfDay % 3600) / 60);
  const second = secOfDay % 60;
  // Go pads the year to at least four digits and puts a sign before negative years.
  const yearText = year < 0 ? '-' + pad(-year, 4) : pad(year, 4);
  return `${yearText}-${pad(month, 2)}-${pad(day, 2)}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}Z`;
}

/** `YYYY-MM-DDTHH:MM:SS.mmmZ` for a Unix ms instant, UTC (the retry-at key, docs/protocol-extensions.md). */
export function formatUtcMillis(unixMs: number): string {
  const sec = Math.floor(unixMs / 1000);
  const text = formatUtcSeconds(sec);
  return `${text.slice(0, -1)}.${pad(unixMs - sec * 1000, 3)}Z`;
}
