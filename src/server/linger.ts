import type { Socket } from 'node:net';

/** How long a closing connection keeps draining what its peer still sends. */
export const LINGER_MS = 2000;

const discard = (): void => undefined;

/**
 * Closes a connection without losing its last replies: sends FIN after them, then reads
 * and drops whatever the peer still sends until it closes too, or LINGER_MS pass. Closing
 * a socket whose peer's bytes are still unread makes the kernel answer with an RST, which
 * can discard replies not yet delivered (a client that pipelined commands behind a
 * refused one would then never see the refusal).
 */
export function lingeringClose(socket: Socket): void {
  if (socket.destroyed) return;
  socket.on('data', discard);
  socket.resume();
  socket.end();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
