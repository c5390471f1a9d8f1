/**
 * Codes of the refusals to start on a log: the directory's content is at fault, not the
 * process, so a supervisor restarting the server would only be refused again.
 */
export const CmdlogRefusalCode = {
  /** A record or segment header is damaged (file and byte offset given). */
  Corrupt: 'ECMDLOG_CORRUPT',
  /** Segments that the manifest lists are not in the directory. */
  Missing: 'ECMDLOG_MISSING',
  /** A segment name that is not a regular file (FIFO, directory, socket, device). */
  NotAFile: 'ECMDLOG_NOT_A_FILE',
  /** The segment manifest cannot be read. */
  Manifest: 'ECMDLOG_MANIFEST',
  /** Replay came near the V8 heap limit: the process needs a larger heap for this log. */
  HeapLimit: 'ECMDLOG_HEAP_LIMIT',
} as const;
export type CmdlogRefusalCode = (typeof CmdlogRefusalCode)[keyof typeof CmdlogRefusalCode];

const REFUSAL_CODES = new Set<string>(Object.values(CmdlogRefusalCode));

/** The server must not start on this log; `file` names what is wrong (a segment, the manifest, the directory). */
export class CmdlogRefusalError extends Error {
  readonly code: CmdlogRefusalCode;
  readonly file: string;

  constructor(code: CmdlogRefusalCode, file: string, message: string) {
    super(message);
    this.name = 'CmdlogRefusalError';
    this.code = code;
    this.file = file;
  }
}

/** A log the server must not start on: names the file and the byte offset of the damage. */
export class CmdlogCorruptError extends CmdlogRefusalError {
  readonly offset: number;

  constructor(file: string, offset: number, reason: string) {
    super(CmdlogRefusalCode.Corrupt, file, `cmdlog replay error in ${file} at byte offset ${offset}: ${reason}`);
    this.name = 'CmdlogCorruptError';
    this.offset = offset;
  }
}

/** Segments the manifest lists are not in the directory. */
export class CmdlogMissingSegmentsError extends CmdlogRefusalError {
  readonly missing: number[];

  constructor(file: string, missing: number[], message: string) {
    super(CmdlogRefusalCode.Missing, file, message);
    this.name = 'CmdlogMissingSegmentsError';
    this.missing = missing;
  }
}

/** True for a refusal to start on a damaged log (by its code: also after it crossed a process boundary). */
export function isCmdlogRefusal(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && REFUSAL_CODES.has(code);
}

export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
}
