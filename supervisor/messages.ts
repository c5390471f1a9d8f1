import type { EffectiveSettings } from '../src/config/effective.js';
import type { ServerStatus } from '../src/server/types.js';

/** Which of an instance's listening sockets: its plain TCP port, or its TLS port (the child runs the handshake). */
export type SocketKind = 'plain' | 'tls';

/** Messages a server child sends its primary over the cluster IPC channel. */
export type ChildMessage =
  | { type: 'ready'; host: string; port: number; settings: EffectiveSettings }
  | { type: 'failed'; code: string | null; message: string }
  /** The child stops on its own account (a signal reached it directly): not a crash. */
  | { type: 'stopping'; reason: string }
  | { type: 'status'; id: number; status: ServerStatus }
  /** Answer to a ping: the child's event loop turns. */
  | { type: 'pong'; id: number }
  /** The child replayed its log and asks for one of the instance's listening sockets, which the primary holds across restarts. */
  | { type: 'listen'; socket: SocketKind }
  /** A child started for a hot restart loaded its configuration, pre-read its log (if any) and waits for 'go' to take over. */
  | { type: 'standby' }
  /** The server stopped cleanly and released its log (after a 'stop' with `linger`). */
  | { type: 'released' }
  /** Answer to 'pause-cleaning': no cleaning pass runs or will start until 'resume-cleaning'. */
  | { type: 'cleaning-paused'; id: number }
  /** The child has the connection the primary sent as `id`: the primary may close its own copy. */
  | { type: 'took'; socket: SocketKind; id: number };

/** Messages the primary sends a child. */
export type PrimaryMessage =
  /**
   * Stop gracefully. With `linger` (a hot restart), report 'released' once the log is
   * let go of and exit only on 'exit': the new server replays the tail meanwhile, and a
   * process with a large heap spends tens to hundreds of ms of CPU exiting.
   */
  | { type: 'stop'; linger?: boolean }
  /** To a child lingering after 'released': exit now. */
  | { type: 'exit' }
  | { type: 'status-request'; id: number }
  | { type: 'ping'; id: number }
  /** Answer to 'listen': the socket listens at this address; accepted connections follow as 'connection'. */
  | { type: 'listening'; socket: SocketKind; host: string; port: number }
  | { type: 'listen-failed'; socket: SocketKind; code: string | null; message: string }
  /** Sent with an accepted socket as its handle, raw (not yet a TLS one for the TLS socket). */
  | { type: 'connection'; socket: SocketKind; id: number }
  /** To a child on standby: the old server has stopped, take the log and serve. */
  | { type: 'go' }
  /** To the serving child before a hot restart: the next server is about to pre-read the log, leave its segments as they are. */
  | { type: 'pause-cleaning'; id: number }
  /** The hot restart was abandoned: clean again. */
  | { type: 'resume-cleaning' };

const CHILD_TYPES = new Set(['ready', 'failed', 'stopping', 'status', 'pong', 'listen', 'standby', 'cleaning-paused', 'released', 'took']);
const PRIMARY_TYPES = new Set([
  'stop',
  'exit',
  'status-request',
  'ping',
  'listening',
  'listen-failed',
  'connection',
  'go',
  'pause-cleaning',
  'resume-cleaning',
]);

function hasType(value: unknown, types: Set<string>): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string' && types.has((value as { type: string }).type);
}

export function isChildMessage(value: unknown): value is ChildMessage {
  return hasType(value, CHILD_TYPES);
}

export function isPrimaryMessage(value: unknown): value is PrimaryMessage {
  return hasType(value, PRIMARY_TYPES);
}
