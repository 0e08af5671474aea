/**
 * Float32 arrays on SharedArrayBuffers, handed out and taken back: the network's input windows and tiles.
 *
 * Why: a detection made about 2.9 GB of fresh typed arrays per 16 MP on the main thread (each one zeroed, and
 * external memory that drove V8's full collections); windows and tiles were the largest part. A shared array
 * also reaches a session worker without a copy or a transfer (worker-session.ts), so the same memory serves
 * window after window.
 */

/** Bytes a new buffer for `bytes` gets: a multiple of 64 KiB, or of an eighth of the power of two below. */
function capacityFor(bytes: number): number {
  const step = Math.max(1 << 16, 2 ** Math.floor(Math.log2(Math.max(bytes, 1))) / 8);
  return Math.ceil(bytes / step) * step;
}

/** Buffers held free at most (bytes); more are left to the collector. */
const HELD_LIMIT = 32 << 20;

export class SharedFloats {
  /** Given back and free, any size: windows and tiles vary in size (the gate trims tiles to their rows). */
  private readonly free: SharedArrayBuffer[] = [];
  private held = 0;

  /**
   * A shared array of `length` floats, its values whatever the buffer held before: the smallest free buffer that
   * holds it and is at most twice its size, or a new one.
   */
  take(length: number): Float32Array {
    const bytes = 4 * length;
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const size = this.free[i].byteLength;
      if (size >= bytes && size <= 2 * bytes + (1 << 16) && (best < 0 || size < this.free[best].byteLength)) best = i;
    }
    if (best < 0) return new Float32Array(new SharedArrayBuffer(capacityFor(bytes)), 0, length);
    const [buffer] = this.free.splice(best, 1);
    this.held -= buffer.byteLength;
    return new Float32Array(buffer, 0, length);
  }

  /** Gives an array from `take` back; nothing may use it afterwards. Arrays not from `take` are ignored. */
  give(array: Float32Array): void {
    const buffer = array.buffer;
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength !== capacityFor(buffer.byteLength)) return;
    if (this.held + buffer.byteLength > HELD_LIMIT || this.free.includes(buffer)) return;
    this.free.push(buffer);
    this.held += buffer.byteLength;
  }
}

/** This thread's pool. */
export const sharedFloats = new SharedFloats();
