/**
 * Reads a TIFF's compressed blocks (tiles or strips) into a few reused buffers. geotiff.js's file source
 * allocates a fresh array per block: a 16 MP four-band float32 scene fetched 228 MB that way, and those
 * buffers, freed only when V8 next collects, were a large part of the run's garbage-collection work and of its
 * resident-memory swings. Blocks are read at most `concurrency` at a time (libuv runs four file or inflate jobs
 * at once anyway), so the buffers held stay few whatever the scene's width.
 */
import { open, type FileHandle } from 'node:fs/promises';

/** Blocks up to this size share buffers of the largest one's size; larger ones get buffers of their own size. */
const LARGEST_SHARED_SIZE = 8 * 2 ** 20;

export class BlockReader {
  private readonly spare: Buffer[] = [];
  private active = 0;
  private readonly queue: (() => void)[] = [];
  private readonly largest: number;

  /** Opens the file now, so that a read racing `close()` fails instead of opening a handle nothing closes. */
  static async open(path: string, offsets: number[], counts: number[], concurrency?: number): Promise<BlockReader> {
    return new BlockReader(await open(path, 'r'), offsets, counts, concurrency);
  }

  private constructor(
    private readonly handle: FileHandle,
    /** Byte offset and byte count of each block, in the TIFF's block order. */
    private readonly offsets: number[],
    private readonly counts: number[],
    private readonly concurrency = 4,
  ) {
    this.largest = Math.min(counts.reduce((a, b) => Math.max(a, b), 0), LARGEST_SHARED_SIZE);
  }

  /**
   * Reads block `index` and hands its bytes to `use`, or null for a sparse block (no bytes stored). The bytes
   * are lent: they are overwritten once `use` settles, so decode or copy them inside it.
   */
  async withBlock<T>(index: number, use: (bytes: Uint8Array | null) => Promise<T> | T): Promise<T> {
    if (this.active < this.concurrency) this.active++;
    else await new Promise<void>((resolve) => this.queue.push(resolve)); // handed a finished read's slot
    let buffer: Buffer | undefined;
    try {
      const count = this.counts[index];
      if (!(count > 0)) return await use(null);
      buffer = this.take(count);
      const { bytesRead } = await this.handle.read(buffer, 0, count, this.offsets[index]);
      if (bytesRead !== count) throw new Error(`block ${index} is truncated: ${bytesRead} of ${count} bytes read`);
      // A plain view, not a Buffer: Buffer.slice would share memory where a copy is meant.
      return await use(new Uint8Array(buffer.buffer, buffer.byteOffset, count));
    } finally {
      if (buffer) this.spare.push(buffer);
      const next = this.queue.shift();
      if (next) next();
      else this.active--;
    }
  }

  /** The smallest spare buffer that holds `count` bytes, or a new one (never more than `concurrency` exist). */
  private take(count: number): Buffer {
    let best = -1;
    for (let i = 0; i < this.spare.length; i++) {
      if (this.spare[i].length >= count && (best < 0 || this.spare[i].length < this.spare[best].length)) best = i;
    }
    if (best >= 0) return this.spare.splice(best, 1)[0];
    // None fits: drop the smallest spare rather than hold one more buffer than blocks in flight.
    if (this.spare.length > 0 && this.spare.length + this.active > this.concurrency) {
      this.spare.splice(this.spare.indexOf(this.spare.reduce((a, b) => (a.length <= b.length ? a : b))), 1);
    }
    // Sized for the file's largest block where that is modest, so that any block fits any buffer.
    return Buffer.allocUnsafeSlow(Math.max(count, this.largest));
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
