/** A log the server must not start on: names the file and the byte offset of the damage. */
export class CmdlogCorruptError extends Error {
  readonly file: string;
  readonly offset: number;

  constructor(file: string, offset: number, reason: string) {
    super(`cmdlog replay error in ${file} at byte offset ${offset}: ${reason}`);
    this.name = 'CmdlogCorruptError';
    this.file = file;
    this.offset = offset;
  }
}

export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}
