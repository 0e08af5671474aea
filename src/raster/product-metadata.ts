/**
 * Product metadata that turns a sensor's DN into reflectance, read from the file the data provider ships with
 * the bands, so a user does not copy coefficients by hand:
 *
 * - Landsat `*_MTL.txt` (ODL text) or `*_MTL.json`, Collection 1 or 2. Level-1: TOA reflectance =
 *   (REFLECTANCE_MULT_BAND_n * DN + REFLECTANCE_ADD_BAND_n) / sin(SUN_ELEVATION). Level-2: surface reflectance =
 *   the LEVEL2_SURFACE_REFLECTANCE_PARAMETERS group's mult and add (no sun term; the L1 group in the same file
 *   is ignored). Blue, green, red, NIR are bands 2, 3, 4, 5 of Landsat 8/9 (OLI), 1, 2, 3, 4 of Landsat 4-7.
 * - Sentinel-2 `MTD_MSIL1C.xml` / `MTD_MSIL2A.xml`: reflectance = (DN + RADIO_ADD_OFFSET) / QUANTIFICATION_VALUE
 *   (L2A: BOA_ADD_OFFSET, BOA_QUANTIFICATION_VALUE); the offsets exist from processing baseline 04.00 on and are
 *   0 before. Blue, green, red, NIR are B02, B03, B04, B08 (band_id 1, 2, 3, 7).
 * - GaoFen-1 and GaoFen-2 (and ZiYuan-3 MUX as CRESDA distributes it) `<ProductMetaData>` XML (the `.xml` beside
 *   the scene's TIFF): the sensor, the sun angle (`SolarZenith`) and the Earth-Sun distance of the date
 *   (`CenterTime`). ZiYuan-3 MUX `<sensor_corrected_metadata>` XML (SASMAC's layout): the same from `SunAltitude`
 *   and `AcquisitionTime` (or `TimeStamp/CenterTime`). Neither holds radiometric gains (they are published apart),
 *   so `--gain` and `--esun` are still needed; with them the metadata completes the calibration.
 *
 * Landsat and Sentinel-2 files also name each band's image file, so a band given in the wrong place is caught
 * (`checkBandFiles`). The formats are flat and the keys few, so they are parsed here rather than with an ODL or XML library.
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { InputError } from '../errors.js';
import type { Sensor } from './sensors.js';

export interface ProductMetadata {
  /** The metadata file. */
  file: string;
  /** What it describes, for messages and the summary: e.g. "LANDSAT_8 L1TP TOA reflectance". */
  product: string;
  sensor: Extract<Sensor, 'landsat8' | 'landsat7' | 'sentinel2' | 'gf1-wfv' | 'gf1-pms' | 'gf2' | 'zy3'>;
  /** Level-2 surface reflectance rather than top-of-atmosphere. */
  surface: boolean;
  /**
   * Reflectance = DN * scale + offset, per model band (blue, green, red, NIR), sun angle included; absent where the
   * metadata only completes a calibration (GaoFen: `sunElevationDeg`, `earthSunDistance`).
   */
  scale?: number[];
  offset?: number[];
  sunElevationDeg?: number;
  earthSunDistance?: number;
  /** The product's band name of each model band (B2..B5, B02..B08). */
  channelBands: string[];
  /** Band name of each image file the metadata lists, keyed by the file's name without folder or extension. */
  fileBands: Record<string, string>;
}

/** Blue, green, red, NIR band numbers by SPACECRAFT_ID, with the preset that reads them. */
const LANDSAT: Record<string, { bands: number[]; sensor: 'landsat8' | 'landsat7' }> = {
  LANDSAT_8: { bands: [2, 3, 4, 5], sensor: 'landsat8' },
  LANDSAT_9: { bands: [2, 3, 4, 5], sensor: 'landsat8' },
  LANDSAT_7: { bands: [1, 2, 3, 4], sensor: 'landsat7' },
  LANDSAT_5: { bands: [1, 2, 3, 4], sensor: 'landsat7' },
  LANDSAT_4: { bands: [1, 2, 3, 4], sensor: 'landsat7' },
};
const SENTINEL2_BANDS = ['B02', 'B03', 'B04', 'B08'];
const SENTINEL2_BAND_IDS = [1, 2, 3, 7];

export function readProductMetadata(file: string): ProductMetadata {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read the metadata file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, file);
  }
  return parseProductMetadata(file, text);
}

/** The metadata in `text`, read from `file` (which names it in messages and the result). */
export function parseProductMetadata(file: string, text: string): ProductMetadata {
  if (/<(n1:)?Level-(1C|2A)_User_Product\b/.test(text)) return sentinel2Metadata(file, text);
  if (/<ProductMetaData\b/.test(text)) return cresdaMetadata(file, text);
  if (/<sensor_corrected_metadata\b/.test(text)) return ziyuanMetadata(file, text);
  if (/^\s*<[^>]*\bLANDSAT_METADATA_FILE\b/m.test(text)) throw new InputError("is a Landsat MTL.xml; give the product's MTL.txt or MTL.json", file);
  if (/\bLANDSAT_METADATA_FILE\b|\bL1_METADATA_FILE\b/.test(text)) return landsatMetadata(file, text.trimStart().startsWith('{') ? jsonGroups(file, text) : odlGroups(text));
  throw new InputError('is not a metadata file wdcd reads (a Landsat MTL.txt or MTL.json, a Sentinel-2 MTD_MSIL1C.xml or MTD_MSIL2A.xml, or a GaoFen-1/2 or ZiYuan-3 MUX product XML)', file);
}

/** Keys by group: the MTL's `GROUP = NAME` ... `END_GROUP = NAME` blocks (innermost group name). */
type Groups = Map<string, Map<string, string>>;

function odlGroups(text: string): Groups {
  const groups: Groups = new Map();
  const stack: string[] = [''];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    const [, key, raw] = m;
    const value = raw.replace(/^"(.*)"$/, '$1');
    if (key === 'GROUP') stack.push(value);
    else if (key === 'END_GROUP') stack.pop();
    else {
      const group = stack[stack.length - 1] ?? '';
      if (!groups.has(group)) groups.set(group, new Map());
      groups.get(group)!.set(key, value);
    }
  }
  return groups;
}

function jsonGroups(file: string, text: string): Groups {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    throw new InputError(`is not valid JSON (${(e as Error).message})`, file);
  }
  const groups: Groups = new Map();
  const walk = (name: string, node: unknown) => {
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (value && typeof value === 'object') walk(key, value);
      else {
        if (!groups.has(name)) groups.set(name, new Map());
        groups.get(name)!.set(key, String(value));
      }
    }
  };
  walk('', root);
  return groups;
}

function anyGroup(groups: Groups, key: string): string | undefined {
  for (const g of groups.values()) if (g.has(key)) return g.get(key);
  return undefined;
}

function numberIn(file: string, group: Map<string, string> | undefined, groupName: string, key: string): number {
  const text = group?.get(key);
  const value = text === undefined ? NaN : Number(text);
  if (!Number.isFinite(value)) throw new InputError(`${key} ${text === undefined ? 'is missing' : `is not a number (${text})`} in ${groupName}`, file);
  return value;
}

function landsatMetadata(file: string, groups: Groups): ProductMetadata {
  const spacecraft = anyGroup(groups, 'SPACECRAFT_ID') ?? '(none)';
  const landsat = LANDSAT[spacecraft];
  if (!landsat) throw new InputError(`SPACECRAFT_ID is ${spacecraft}: wdcd reads the MTL files of ${Object.keys(LANDSAT).join(', ')}`, file);
  const { bands } = landsat;
  const level = anyGroup(groups, 'PROCESSING_LEVEL') ?? anyGroup(groups, 'DATA_TYPE') ?? 'L1';
  const surface = level.startsWith('L2');
  const groupName = surface ? 'LEVEL2_SURFACE_REFLECTANCE_PARAMETERS' : groups.has('LEVEL1_RADIOMETRIC_RESCALING') ? 'LEVEL1_RADIOMETRIC_RESCALING' : 'RADIOMETRIC_RESCALING';
  const group = groups.get(groupName);
  let scale = bands.map((b) => numberIn(file, group, groupName, `REFLECTANCE_MULT_BAND_${b}`));
  let offset = bands.map((b) => numberIn(file, group, groupName, `REFLECTANCE_ADD_BAND_${b}`));
  if (!surface) {
    const elevation = numberIn(file, groups.get('IMAGE_ATTRIBUTES'), 'IMAGE_ATTRIBUTES', 'SUN_ELEVATION');
    if (!(elevation > 0 && elevation <= 90)) throw new InputError(`SUN_ELEVATION ${elevation} is not above the horizon: no reflectance can be computed`, file);
    const sin = Math.sin((elevation * Math.PI) / 180);
    scale = scale.map((s) => s / sin);
    offset = offset.map((o) => o / sin);
  }
  const fileBands: Record<string, string> = {};
  const contents = groups.get('PRODUCT_CONTENTS') ?? groups.get('PRODUCT_METADATA');
  for (const [key, name] of contents ?? []) {
    const m = /^FILE_NAME_BAND_(\d+)$/.exec(key);
    if (m) fileBands[fileStem(name)] = `B${m[1]}`;
  }
  return {
    file,
    product: `${spacecraft} ${level} ${surface ? 'surface' : 'TOA'} reflectance`,
    sensor: landsat.sensor,
    surface,
    scale,
    offset,
    channelBands: bands.map((b) => `B${b}`),
    fileBands,
  };
}

function sentinel2Metadata(file: string, text: string): ProductMetadata {
  const surface = /<(n1:)?Level-2A_User_Product\b/.test(text);
  const quantName = surface ? 'BOA_QUANTIFICATION_VALUE' : 'QUANTIFICATION_VALUE';
  const quantification = Number(xmlTag(text, quantName));
  if (!(quantification > 0)) throw new InputError(`${quantName} is missing or not a positive number`, file);
  const offsetName = surface ? 'BOA_ADD_OFFSET' : 'RADIO_ADD_OFFSET';
  const offsets = new Map<number, number>();
  for (const m of text.matchAll(new RegExp(`<${offsetName}\\b[^>]*band_id="(\\d+)"[^>]*>\\s*([^<]*?)\\s*</${offsetName}>`, 'g'))) {
    const value = Number(m[2]);
    if (!Number.isFinite(value)) throw new InputError(`${offsetName} of band_id ${m[1]} is not a number (${m[2]})`, file);
    offsets.set(Number(m[1]), value);
  }
  // Before baseline 04.00 the list does not exist and the offset is 0; from then on every band has one.
  if (offsets.size > 0) {
    for (const id of SENTINEL2_BAND_IDS) if (!offsets.has(id)) throw new InputError(`${offsetName} of band_id ${id} is missing`, file);
  }
  const fileBands: Record<string, string> = {};
  for (const m of text.matchAll(/<IMAGE_FILE(?:_2A)?>\s*([^<]*?)\s*<\/IMAGE_FILE(?:_2A)?>/g)) {
    const band = /_(B\d[\dA])(?:_\d+m)?$/.exec(m[1]);
    if (band) fileBands[fileStem(m[1])] = band[1];
  }
  const baseline = xmlTag(text, 'PROCESSING_BASELINE');
  return {
    file,
    product: `Sentinel-2 ${surface ? 'L2A surface' : 'L1C TOA'} reflectance${baseline ? `, baseline ${baseline}` : ''}`,
    sensor: 'sentinel2',
    surface,
    scale: SENTINEL2_BAND_IDS.map(() => 1 / quantification),
    offset: SENTINEL2_BAND_IDS.map((id) => (offsets.get(id) ?? 0) / quantification),
    channelBands: SENTINEL2_BANDS,
    fileBands,
  };
}

/** The first `<name>` element's text, trimmed. */
function xmlTag(text: string, name: string): string | undefined {
  return new RegExp(`<${name}\\b[^>]*>\\s*([^<]*?)\\s*</${name}>`).exec(text)?.[1];
}

/** CRESDA's product XML: GaoFen-1 WFV and PMS, GaoFen-2 PMS, ZiYuan-3 MUX. */
function cresdaMetadata(file: string, text: string): ProductMetadata {
  const satellite = xmlTag(text, 'SatelliteID') ?? '(none)';
  const sensorId = xmlTag(text, 'SensorID') ?? '(none)';
  const sensor = /^GF1/.test(satellite) ? (/^WFV/.test(sensorId) ? 'gf1-wfv' : /^PMS/.test(sensorId) ? 'gf1-pms' : undefined)
    : /^GF2/.test(satellite) && /^PMS/.test(sensorId) ? 'gf2'
    : ZIYUAN3.test(satellite) && /^MUX/.test(sensorId) ? 'zy3' : undefined;
  if (!sensor) throw new InputError(`SatelliteID ${satellite}, SensorID ${sensorId}: wdcd reads the XML of GaoFen-1 WFV and PMS, GaoFen-2 PMS and ZiYuan-3 MUX products`, file);
  const zenithText = xmlTag(text, 'SolarZenith');
  const zenith = Number(zenithText);
  if (zenithText === undefined || !(zenith >= 0 && zenith < 90)) throw new InputError(`SolarZenith ${zenithText === undefined ? 'is missing' : `${zenithText} is not a sun above the horizon`}`, file);
  return sunMetadata(file, text, sensor, `${satellite} ${sensorId}`, 90 - zenith, ['CenterTime', 'StartTime']);
}

/** ZiYuan-3 01-03 `sensor_corrected_metadata` (SASMAC): only the multispectral camera (MUX) has the four bands. */
function ziyuanMetadata(file: string, text: string): ProductMetadata {
  const satellite = xmlTag(text, 'SatelliteID') ?? '(none)';
  const sensorId = xmlTag(text, 'SensorID') ?? '(none)';
  if (!ZIYUAN3.test(satellite) || !/^MUX/.test(sensorId)) {
    const why = ZIYUAN3.test(satellite) && /^(NAD|FWD|BWD|PAN)/.test(sensorId) ? ' (a panchromatic camera: one band, no blue, green, red and NIR)' : '';
    throw new InputError(`SatelliteID ${satellite}, SensorID ${sensorId}${why}: of ZiYuan-3 metadata, wdcd reads the multispectral camera's (MUX)`, file);
  }
  const elevationText = xmlTag(text, 'SunAltitude');
  const elevation = Number(elevationText);
  if (elevationText === undefined || !(elevation > 0 && elevation <= 90)) throw new InputError(`SunAltitude ${elevationText === undefined ? 'is missing' : `${elevationText} is not a sun above the horizon`}`, file);
  // GDAL's reader knows the tag misspelt as AcquistionTime too; older products carry only TimeStamp/CenterTime.
  return sunMetadata(file, text, 'zy3', `${satellite} ${sensorId}`, elevation, ['AcquisitionTime', 'AcquistionTime', 'CenterTime', 'StartTime']);
}

const ZIYUAN3 = /^ZY-?3/i;

/** The parts of a DN product's metadata that complete `--gain`/`--esun`: the sun's elevation and the date's Earth-Sun distance. */
function sunMetadata(file: string, text: string, sensor: ProductMetadata['sensor'], what: string, elevationDeg: number, timeTags: string[]): ProductMetadata {
  const found = timeTags.map((tag) => [tag, xmlTag(text, tag)] as const).find(([, value]) => value !== undefined);
  // "2022-06-24 13:39:09", or compact "20120310104056.123"
  const date = found && /^(\d{4})-?(\d{2})-?(\d{2})/.exec(found[1]!);
  if (!date) throw new InputError(`${found ? `${found[0]} "${found[1]}" is not a date (YYYY-MM-DD ...)` : `${timeTags[0]} is missing`}`, file);
  const dayOfYear = (Date.UTC(+date[1], +date[2] - 1, +date[3]) - Date.UTC(+date[1], 0, 1)) / 86_400_000 + 1;
  const level = xmlTag(text, 'ProductLevel') ?? '';
  return {
    file,
    product: `${what} ${level} DN, sun elevation ${elevationDeg.toFixed(2)} degrees`.replace(/ {2,}/g, ' '),
    sensor,
    surface: false,
    sunElevationDeg: elevationDeg,
    earthSunDistance: earthSunDistance(dayOfYear),
    channelBands: ['B1', 'B2', 'B3', 'B4'],
    fileBands: {},
  };
}

/** In astronomical units, from the day of the year (the usual first-order formula, within 1e-4 AU). */
export function earthSunDistance(dayOfYear: number): number {
  return 1 - 0.01672 * Math.cos(((0.9856 * (dayOfYear - 4)) * Math.PI) / 180);
}

/** A file's name without folder or extension (`.TIF`, `.jp2`, none), lower case: how the metadata lists it. */
export function fileStem(path: string): string {
  const name = basename(path.replace(/\\/g, '/'));
  return (/\.(tiff?|jp2|img)$/i.test(extname(name)) ? name.slice(0, -extname(name).length) : name).toLowerCase();
}

/**
 * Where the inputs are single-band files the metadata lists, each must be the band its model place needs:
 * blue from B2 (Landsat) or B02 (Sentinel-2), and so on. Catches band files given in the wrong order.
 * `bands`: 0-based input band of each model band; `channels`: the model bands' names.
 * Returns the inputs the metadata does not name (renamed files, or metadata of another scene), for a warning;
 * none where the metadata lists no files (GaoFen, ZiYuan-3).
 */
export function checkBandFiles(metadata: ProductMetadata, inputs: string[], bands: number[], channels: string[]): string[] {
  if (Object.keys(metadata.fileBands).length === 0) return [];
  const named = inputs.map((f) => metadata.fileBands[fileStem(f)]);
  bands.forEach((input, c) => {
    const found = named[input];
    if (found !== undefined && found !== metadata.channelBands[c]) {
      throw new InputError(
        `is band ${found} in ${basename(metadata.file)}, but it would go to the model as ${channels[c]} (${metadata.channelBands[c]}): ` +
          `give the band files in the order ${metadata.channelBands.join(' ')}, or choose them with --bands`,
        inputs[input],
      );
    }
  });
  return inputs.filter((_, i) => named[i] === undefined);
}
