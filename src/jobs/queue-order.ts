import type { JobStore } from './job-store.js';
import { SortedBlocks } from './sorted-blocks.js';

/** Every queue, by its number in the store, sorted by name; names are ASCII, so this is the byte order of `inspect queues` (docs/protocol.md 6.4). */
export class QueueOrder extends SortedBlocks {
  constructor(private readonly store: JobStore) {
    super();
  }
  protected before(a: number, b: number): boolean {
    return this.store.queueAt(a).name < this.store.queueAt(b).name;
  }
  protected mark(): void {}
}
