import type { Logger } from 'pino';

/**
 * Callbacks waiting for a record to be durable, in sequence order: parallel arrays
 * consumed from `head`, so firing a batch allocates nothing.
 */
export class DurableWaiters {
  /** Sequence number of the last durable record. */
  durableSeq = 0;
  private seqs: number[] = [];
  private cbs: (() => void)[] = [];
  private head = 0;

  constructor(private readonly logger: Logger) {}

  /** Calls `cb` once record `seq` is durable; at once when it already is. */
  add(seq: number, cb: () => void): void {
    if (seq <= this.durableSeq) {
      cb();
      return;
    }
    let i = this.seqs.length;
    this.seqs.push(seq);
    this.cbs.push(cb);
    // Callers register in sequence order; keep the rare out-of-order one sorted.
    while (i > this.head && this.seqs[i - 1]! > seq) {
      this.seqs[i] = this.seqs[i - 1]!;
      this.cbs[i] = this.cbs[i - 1]!;
      i--;
    }
    this.seqs[i] = seq;
    this.cbs[i] = cb;
  }

  /** Records up to `seq` are durable: calls their waiters. */
  reach(seq: number): void {
    this.durableSeq = seq;
    const seqs = this.seqs;
    const cbs = this.cbs;
    let head = this.head;
    while (head < seqs.length && seqs[head]! <= seq) {
      const cb = cbs[head]!;
      head++;
      try {
        cb();
      } catch (err) {
        this.logger.error({ err }, 'cmdlog: durability callback threw');
      }
    }
    if (head === seqs.length) {
      this.seqs = [];
      this.cbs = [];
      this.head = 0;
    } else if (head > 4096 && head * 2 > seqs.length) {
      this.seqs = seqs.slice(head);
      this.cbs = cbs.slice(head);
      this.head = 0;
    } else {
      this.head = head;
    }
  }
}
