import { createServer, type Server, type Socket } from 'node:net';

/**
 * A stand-in server for client tests: frames commands just enough (a line, plus the data
 * block of block commands) and answers each with what `answer` returns. Returning null
 * sends nothing; a function gets the socket for tricks like splitting or dropping.
 */

export interface FakeCommand {
  readonly line: string;
  readonly args: string[];
  readonly block: Buffer | null;
}

export type FakeAnswer = string | Buffer | null | ((socket: Socket) => void);

export interface FakeServer {
  readonly address: string;
  readonly port: number;
  readonly commands: FakeCommand[];
  /** Number of 'data' events the server saw, over all connections. */
  readonly reads: () => number;
  readonly connections: () => number;
  close(): Promise<void>;
}

const BLOCK_COMMANDS = new Set(['add', 'schedule', 'run', 'complete', 'fail']);

export async function fakeServer(answer: (command: FakeCommand) => FakeAnswer, port = 0): Promise<FakeServer> {
  const commands: FakeCommand[] = [];
  const sockets = new Set<Socket>();
  let reads = 0;
  let connections = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    connections += 1;
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      reads += 1;
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const lf = buf.indexOf(0x0a);
        if (lf < 0) return;
        const line = buf.toString('latin1', 0, lf - 1);
        const args = line.split(' ').filter((a) => a !== '' && !(a.startsWith('-') && a.includes('=')));
        let block: Buffer | null = null;
        let end = lf + 1;
        if (BLOCK_COMMANDS.has(args[0] ?? '')) {
          const size = Number(args[args.length - 1]);
          if (buf.length < end + size + 2) return;
          block = buf.subarray(end, end + size);
          end += size + 2;
        }
        buf = buf.subarray(end);
        const command = { line, args, block };
        commands.push(command);
        const reply = answer(command);
        if (typeof reply === 'function') reply(socket);
        else if (reply !== null) socket.write(reply);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as { port: number }).port;
  return {
    address: `127.0.0.1:${actual}`,
    port: actual,
    commands,
    reads: () => reads,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
