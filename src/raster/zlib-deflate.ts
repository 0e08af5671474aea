/**
 * Deflate tiles decoded by Node's native zlib instead of geotiff.js's JavaScript inflate (pako): profiling a
 * 1 MP four-band scene showed pako taking a fifth of the whole detection. Asynchronous, so the tiles of a
 * window inflate in parallel on libuv's thread pool. Registered once, on import.
 */
import { addDecoder, BaseDecoder } from 'geotiff';
import { promisify } from 'node:util';
import { inflate } from 'node:zlib';

const inflateAsync = promisify(inflate);

class ZlibDeflateDecoder extends BaseDecoder {
  /** Takes a view as well as an ArrayBuffer: the direct read lends the bytes it read into a reused buffer. */
  override async decodeBlock(buffer: ArrayBufferLike | Uint8Array): Promise<ArrayBuffer> {
    // Output in one piece: zlib's default 16 KiB chunks cost a JavaScript callback each.
    const { tileWidth, tileHeight, bitsPerSample } = this.parameters;
    const bitsPerPixel = typeof bitsPerSample === 'number' ? bitsPerSample : Array.from(bitsPerSample).reduce((a, b) => a + b, 0);
    const chunkSize = Math.max(64 * 1024, Math.ceil((tileWidth * tileHeight * bitsPerPixel) / 8));
    const out = await inflateAsync(buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer), { chunkSize });
    // Usually the output fills its buffer exactly (the chunk is the tile's size): no copy then.
    if (out.byteOffset === 0 && out.byteLength === out.buffer.byteLength) return out.buffer as ArrayBuffer;
    return out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength) as ArrayBuffer;
  }
}

// 8: Adobe deflate, 32946: the older deflate code; predictors are applied by BaseDecoder.decode.
addDecoder([8, 32946], () => Promise.resolve(ZlibDeflateDecoder as never), undefined, false);
