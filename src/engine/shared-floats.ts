/**
 * Float32 arrays on SharedArrayBuffers, handed out and taken back: the network's input windows and tiles.
 *
 * Why: every fresh typed array is external memory to V8, and a detection made about 2.9 GB of them per 16 MP on
 * the main thread; V8 answers each 64 MB or so with a full mark-compact (115 per 16 MP, about 4.5 CPU-seconds
 * of its helper threads on 2 cores). A shared array also reaches a session worker without a copy or a
 * transfer (worker-session.ts), so the same memory serves window after window.
 */

/** Bytes a buffer for `bytes` gets: a multiple of 64 KiB, then of an eighth of the power of two below. */
function capacityFor(bytes: number): number {
  const step = Math.max(1 << 16, 2 ** Math.floor(Math.log2(Math.max(bytes, 1))) / 8);
  return Math.ceil(bytes / step) * step;
}

/** Buffers held free at most (bytes); more are left to the collector. */
const HELD_LIMIT = 256 << 20;

export class SharedFloats {
  private readonly free = new Map<number, SharedArrayBuffer[]>();
  private held = 0;

  /** A shared array of `length` floats; its values are whatever the buffer held before. */
  take(length: number): Float32Array {
    const capacity = capacityFor(4 * length);
    const buffer = this.free.get(capacity)?.pop();
    if (buffer) this.held -= capacity;
    return new Float32Array(buffer ?? new SharedArrayBuffer(capacity), 0, length);
  }

  /** Gives an array from `take` back; nothing may use it afterwards. Arrays not from `take` are ignored. */
  give(array: Float32Array): void {
    const buffer = array.buffer;
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength !== capacityFor(buffer.byteLength)) return;
    if (this.held + buffer.byteLength > HELD_LIMIT) return;
    const list = this.free.get(buffer.byteLength) ?? [];
    if (list.includes(buffer)) return;
    list.push(buffer);
    this.free.set(buffer.byteLength, list);
    this.held += buffer.byteLength;
  }
}

/** This thread's pool. */
export const sharedFloats = new SharedFloats();
