import type { Queue } from './queue.js';
import { SortedBlocks } from './sorted-blocks.js';

/** Every queue, sorted by name; names are ASCII, so this is the byte order of `inspect queues` (docs/protocol.md 6.4). */
export class QueueOrder extends SortedBlocks<Queue> {
  protected before(a: Queue, b: Queue): boolean {
    return a.name < b.name;
  }
  protected mark(): void {}
}
