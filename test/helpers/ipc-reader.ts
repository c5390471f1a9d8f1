// A child process that takes sockets from its parent over IPC, as a supervised server takes
// its connections from the primary, reads each with readChunks, and tells the parent
// whether it read into the shared buffer and what it read up to the first LF.
import net from 'node:net';
import { readChunks } from '../../src/server/socket-reads.js';

process.on('message', (_message: unknown, handle: unknown) => {
  if (!(handle instanceof net.Socket)) return;
  let text = '';
  const shared = readChunks(handle, (chunk) => {
    text += chunk.toString('latin1');
    if (text.includes('\n')) {
      process.send!({ shared, text });
      handle.destroy();
    }
  });
});
process.send!('ready');
