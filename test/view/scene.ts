/**
 * Test inputs made from the real Landsat 8 scene (120 m, Long Island): B2, B3, B4 as the image; a mask, a CAM
 * and a "truth" computed from B2 and written as GeoTIFFs with the scene's georeferencing.
 *   CAM   = 10 (B2 - 0.2) + 0.5, NaN on fill (B2 = 0 or NaN); threshold T = 0.5 (in the sidecar mask.tif.json)
 *   mask  = wdcd coding: 1 where CAM >= T (B2 >= 0.2), 0 elsewhere, 255 on fill
 *   truth = 38-Cloud coding: 255 where B2 >= 0.17 and B2 >= 0.95 B4 (white, not sand), else 0
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromFile, writeArrayBuffer } from 'geotiff';
import { openRaster } from '../../src/raster/open.js';
import { createGeoTiffWriter } from '../../src/raster/write-geotiff.js';

export const SCENE_DIR = '/work/shared/data/landsat8-scene-120m';
export const band = (n: number): string => join(SCENE_DIR, `LC80130312015295LGN00_B${n}_toa.tif`);

export interface Scene {
  dir: string;
  image: string[];
  mask: string;
  cam: string;
  truth: string;
  width: number;
  height: number;
  b2: Float32Array;
  maskValues: Uint8Array;
}

async function readBand(path: string) {
  const tiff = await fromFile(path);
  const image = await tiff.getImage();
  const [data] = (await image.readRasters()) as unknown as Float32Array[];
  const fd = image.fileDirectory;
  const geo = {
    GeoKeyDirectory: Array.from(fd.getValue('GeoKeyDirectory') as ArrayLike<number>),
    GeoAsciiParams: fd.getValue('GeoAsciiParams') as string,
    ModelPixelScale: Array.from(fd.getValue('ModelPixelScale') as ArrayLike<number>),
    ModelTiepoint: Array.from(fd.getValue('ModelTiepoint') as ArrayLike<number>),
  };
  const out = { width: image.getWidth(), height: image.getHeight(), data: data!, geo };
  tiff.close();
  return out;
}

export async function makeScene(): Promise<Scene> {
  const dir = await mkdtemp(join(tmpdir(), 'wdcd-view-'));
  const { width, height, data: b2, geo } = await readBand(band(2));
  const { data: b4 } = await readBand(band(4));
  const n = width * height;
  const cam = new Float32Array(n);
  const mask = new Uint8Array(n);
  const truth = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = b2[i]!;
    const fill = !(v > 0);
    cam[i] = fill ? Number.NaN : 10 * (v - 0.2) + 0.5;
    mask[i] = fill ? 255 : cam[i]! >= 0.5 ? 1 : 0;
    truth[i] = v >= 0.17 && v >= 0.95 * b4[i]! ? 255 : 0;
  }
  // geotiff.js's writer replaces the tiepoint with its whole-globe default (-180, 90) unless a CRS key is named,
  // even with a GeoKeyDirectory given; the scene is UTM 18N.
  const common = { width, height, ...geo, ProjectedCSTypeGeoKey: 32618 };
  const files = {
    mask: join(dir, 'mask.tif'),
    cam: join(dir, 'cam.tif'),
    truth: join(dir, 'truth.tif'),
  };
  // Mask and CAM through the project's tiled writer (deflate tiles), the truth through geotiff.js (one strip):
  // the viewer reads both layouts.
  const source = await openRaster([band(2)]);
  const georef = source.georef;
  await source.close();
  for (const [path, data, nodata] of [
    [files.mask, mask, 255],
    [files.cam, cam, Number.NaN],
  ] as const) {
    const w = await createGeoTiffWriter(path, {
      width,
      height,
      sampleType: data instanceof Uint8Array ? 'uint8' : 'float32',
      georef,
      nodata,
      tileSize: 128,
    });
    await w.writeRows(0, height, data);
    await w.finish();
  }
  await writeFile(files.truth, Buffer.from(writeArrayBuffer(truth, common as never)));
  await writeFile(`${files.mask}.json`, JSON.stringify({ threshold: 0.5, model: 'test (B2 >= 0.2)', k: 2.5 }));
  return { dir, image: [band(2), band(3), band(4)], ...files, width, height, b2, maskValues: mask };
}
