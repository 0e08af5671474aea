/**
 * WebP tiles (GDAL's `COMPRESS=WEBP`, 8-bit RGB or RGBA orthophotos) decoded by sharp (libvips + libwebp,
 * already a dependency for the PNG outputs). geotiff.js's own WebP decoder draws on a browser canvas, which Node
 * lacks. Registered once, on import, with the parameters geotiff.js's own registration reads.
 */
import { addDecoder, BaseDecoder } from 'geotiff';
import sharp from 'sharp';

class SharpWebpDecoder extends BaseDecoder {
  override async decodeBlock(buffer: ArrayBufferLike): Promise<ArrayBuffer> {
    const samples = (this.parameters as { samplesPerPixel?: number }).samplesPerPixel ?? 4;
    if (samples !== 3 && samples !== 4) throw new Error(`WebP tiles hold 3 or 4 samples per pixel, not ${samples}`);
    // libwebp gives RGBA where the tile has alpha: keep exactly the samples the TIFF declares.
    const image = sharp(new Uint8Array(buffer));
    const out = await (samples === 4 ? image.ensureAlpha() : image.removeAlpha()).raw().toBuffer();
    return out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength) as ArrayBuffer;
  }
}

const WEBP = 50001;
addDecoder(
  WEBP,
  () => Promise.resolve(SharpWebpDecoder as never),
  async (fd) => {
    const tiled = (await fd.loadValue('TileWidth')) !== undefined;
    return {
      tileWidth: Number(tiled ? await fd.loadValue('TileWidth') : await fd.loadValue('ImageWidth')),
      tileHeight: Number(tiled ? await fd.loadValue('TileLength') : (await fd.loadValue('RowsPerStrip')) ?? (await fd.loadValue('ImageLength'))),
      planarConfiguration: Number((await fd.loadValue('PlanarConfiguration')) ?? 1),
      bitsPerSample: await fd.loadValue('BitsPerSample'),
      predictor: 1,
      samplesPerPixel: Number((await fd.loadValue('SamplesPerPixel')) ?? 4),
    } as never;
  },
  false,
);
