/** Damages a log in place: XORs the byte at `offset` with `mask`, refusing an offset outside the buffer (which would damage nothing). */
export function flipBits(buf: Buffer, offset: number, mask: number): void {
  const byte = buf[offset];
  if (byte === undefined) throw new RangeError(`offset ${offset} is outside the ${buf.length} bytes`);
  buf[offset] = byte ^ mask;
}
