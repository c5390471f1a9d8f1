/**
 * The load generator's ceiling: answers `+OK\r\n` for every K lines received (K = 2
 * for add requests: command line and payload line) and does nothing else. Run as its
 * own process: `node --import=tsx bench/null-server.ts PORT [K]`.
 */
import net from 'node:net';

const port = Number(process.argv[2]);
const linesPerReply = Number(process.argv[3] ?? '2');
const OK = Buffer.from('+OK\r\n');
/** Replies are slices of one pre-filled buffer: no allocation per reply. */
const REPLIES = Buffer.alloc(OK.length * 65536);
for (let i = 0; i < 65536; i++) OK.copy(REPLIES, i * OK.length);

const server = net.createServer({ noDelay: true }, (socket) => {
  let lines = 0;
  socket.on('data', (chunk: Buffer) => {
    let pos = chunk.indexOf(10);
    while (pos >= 0) {
      lines += 1;
      pos = chunk.indexOf(10, pos + 1);
    }
    let replies = Math.floor(lines / linesPerReply);
    lines -= replies * linesPerReply;
    while (replies > 0) {
      const n = Math.min(replies, 65536);
      socket.write(REPLIES.subarray(0, n * OK.length));
      replies -= n;
    }
  });
  socket.on('error', () => socket.destroy());
});

server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
