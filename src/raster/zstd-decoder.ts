/**
 * ZSTD tiles decoded into a buffer of the tile's size. geotiff.js's ZSTD decoder (zstddec's streaming loop) does
 * not stop on a damaged frame: a flipped run of bytes spun it for ever, deaf to Ctrl+C. Given the tile's size,
 * zstddec decodes in one call, and a damaged frame returns an error (an empty result here) instead. Registered once,
 * on import.
 */
import { addDecoder, BaseDecoder } from 'geotiff';
import { ZSTDDecoder } from 'zstddec';

const zstd = new ZSTDDecoder();
const ready = zstd.init();

class BoundedZstdDecoder extends BaseDecoder {
  override async decodeBlock(buffer: ArrayBufferLike): Promise<ArrayBuffer> {
    await ready;
    // An upper bound: a block of every sample (a planar block holds one); a file's last strip may be shorter.
    const { tileWidth, tileHeight, bitsPerSample } = this.parameters;
    const bitsPerPixel = typeof bitsPerSample === 'number' ? bitsPerSample : Array.from(bitsPerSample).reduce((a, b) => a + b, 0);
    const out = zstd.decode(new Uint8Array(buffer), Math.ceil((tileWidth * tileHeight * bitsPerPixel) / 8));
    if (out.byteLength === 0) throw new Error('damaged ZSTD data (the block does not decode)');
    return out.buffer as ArrayBuffer;
  }
}

addDecoder(50000, () => Promise.resolve(BoundedZstdDecoder as never), undefined, false);
