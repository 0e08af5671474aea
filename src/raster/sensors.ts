/**
 * Sensor presets: which input bands feed the model, and how digital numbers become reflectance (0..1):
 * reflectance = DN * scale + offset, per band.
 *
 * Model band order: the model always receives blue, green, red, NIR (4-band presets) or blue, green, red
 * (`rgb`), whatever order the input file stores them in; `channels` in the result names them.
 *
 * Input order: every 4-band preset expects the input's bands 1..4 to be blue, green, red, NIR, which is the
 * native order of GF-1 WFV/PMS, GF-2 PMS and ZY-3 MUX products and what you get by passing per-band files in
 * that order (Landsat 8: B2 B3 B4 B5; Sentinel-2: B02 B03 B04 B08). For any other layout pass `bands`
 * (1-based, in model order), e.g. a full Landsat 8 B1..B7 stack needs bands 2,3,4,5.
 */
import { InputError } from '../errors.js';
import type { ProductMetadata } from './product-metadata.js';

export const SENSORS = ['gf1-wfv', 'gf1-pms', 'gf2', 'zy3', 'landsat8', 'landsat7', 'landsat8-biome', 'sentinel2', 'rgb'] as const;
export type Sensor = (typeof SENSORS)[number];
export type Channel = 'blue' | 'green' | 'red' | 'nir';

export interface SensorPreset {
  /** 1-based input bands, in model order. */
  bands: number[];
  channels: Channel[];
  scale: number;
  offset: number;
  /** DN marking missing pixels, or null when the product has none (NaN is always missing). */
  nodata: number | null;
  /** Whether scale/offset give true reflectance, or only a rough 0..1 range until calibrated. */
  calibrated: boolean;
  description: string;
  /**
   * Where the preset's bands 1-4 are not where the usual full stack of the product holds them: a single file with
   * more bands than the preset reads is then refused without --bands (detect.ts), naming that layout.
   */
  usualStack?: { layout: string; bands: number[]; presetBands: string };
}

const BGRN: Channel[] = ['blue', 'green', 'red', 'nir'];

/**
 * GF-1, GF-2 and ZY-3 deliver 10-bit DN (0..1023) that need per-scene absolute calibration (gain/offset
 * published yearly by CRESDA, radiance = gain * DN + offset) and the band solar irradiance to become
 * reflectance. Without them we only map 0..1023 to 0..1; pass `calibration` for real reflectance.
 */
const TEN_BIT = 1 / 1023;

export const PRESETS: Record<Sensor, SensorPreset> = {
  'gf1-wfv': { bands: [1, 2, 3, 4], channels: BGRN, scale: TEN_BIT, offset: 0, nodata: 0, calibrated: false,
    description: 'GaoFen-1 WFV L1A/L2A DN (B1 blue, B2 green, B3 red, B4 NIR), 10-bit; 0 is fill' },
  'gf1-pms': { bands: [1, 2, 3, 4], channels: BGRN, scale: TEN_BIT, offset: 0, nodata: 0, calibrated: false,
    description: 'GaoFen-1 PMS multispectral DN (B1 blue .. B4 NIR), 10-bit; 0 is fill' },
  gf2: { bands: [1, 2, 3, 4], channels: BGRN, scale: TEN_BIT, offset: 0, nodata: 0, calibrated: false,
    description: 'GaoFen-2 PMS multispectral DN (B1 blue .. B4 NIR), 10-bit; 0 is fill' },
  zy3: { bands: [1, 2, 3, 4], channels: BGRN, scale: TEN_BIT, offset: 0, nodata: 0, calibrated: false,
    description: 'ZiYuan-3 MUX DN (B1 blue .. B4 NIR), 10-bit; 0 is fill' },
  // Landsat 8 Collection 2 Level-1 MTL: REFLECTANCE_MULT_BAND_n = 2.0E-05, REFLECTANCE_ADD_BAND_n = -0.1 for
  // every reflective band; fill DN is 0. This is TOA reflectance without the sun-elevation correction (divide
  // by sin(SUN_ELEVATION) for that: `sunElevationDeg`).
  landsat8: { bands: [1, 2, 3, 4], channels: BGRN, scale: 2.0e-5, offset: -0.1, nodata: 0, calibrated: true,
    description: 'Landsat 8/9 Collection 2 Level-1 DN, bands B2 B3 B4 B5 in that order',
    usualStack: { layout: 'B1 (coastal aerosol) onwards', bands: [2, 3, 4, 5], presetBands: 'B2 B3 B4 B5' } },
  // Landsat 4-5 TM and 7 ETM+ Level-1: 8-bit DN, B1 blue .. B4 NIR, with per-band and per-scene reflectance
  // coefficients (they follow the gain setting), so there is no fixed scaling: the MTL (`metadata`) gives it.
  landsat7: { bands: [1, 2, 3, 4], channels: BGRN, scale: 1 / 255, offset: 0, nodata: 0, calibrated: false,
    description: 'Landsat 4-5 TM / 7 ETM+ Level-1 DN, bands B1 B2 B3 B4 in that order' },
  // The L8 Biome subsets in shared/data/l8biome: float32 TOA reflectance already, bands 1..4 = blue, green,
  // red, NIR (checked on the spectra). The Biome scenes use 0 as fill.
  'landsat8-biome': { bands: [1, 2, 3, 4], channels: BGRN, scale: 1, offset: 0, nodata: 0, calibrated: true,
    description: 'L8 Biome float32 TOA reflectance (bands 1-4 = blue, green, red, NIR)' },
  // Sentinel-2 L1C and L2A: reflectance = DN / QUANTIFICATION_VALUE (10000); 0 is NO_DATA. From processing
  // baseline 04.00 (25 Jan 2022) the products add RADIO_ADD_OFFSET / BOA_ADD_OFFSET = -1000 first:
  // reflectance = (DN - 1000) / 10000; use `sentinel2Baseline04: true` for those.
  sentinel2: { bands: [1, 2, 3, 4], channels: BGRN, scale: 1e-4, offset: 0, nodata: 0, calibrated: true,
    description: 'Sentinel-2 L1C/L2A DN, bands B02 B03 B04 B08 in that order',
    usualStack: { layout: 'B01 onwards (B01 B02 B03 B04 B05 B06 B07 B08 ...)', bands: [2, 3, 4, 8], presetBands: 'B02 B03 B04 B08' } },
  // 8-bit display RGB (JPEG/PNG renders, e.g. the GF-1 slices in shared/data/gf1): stored red, green, blue;
  // the model gets blue, green, red like every other preset. Not radiometric; no fill value.
  rgb: { bands: [3, 2, 1], channels: ['blue', 'green', 'red'], scale: 1 / 255, offset: 0, nodata: null, calibrated: false,
    description: '8-bit RGB image (red, green, blue), e.g. JPEG or PNG' },
};

/** Absolute calibration for DN products (GF/ZY): per-band radiance gain/offset and solar irradiance. */
export interface Calibration {
  /** Radiance = gain * DN + offset, W/(m2 sr um), one value per model band. */
  gain: number[];
  offset: number[];
  /** Mean exoatmospheric solar irradiance per model band, W/(m2 um). */
  esun: number[];
  /** Degrees above the horizon; may come from `metadata` instead. */
  sunElevationDeg?: number;
  /** Earth-sun distance in astronomical units on the acquisition date; default the metadata's, else 1. */
  earthSunDistance?: number;
}

export interface BandOverrides {
  /** 1-based input bands in model order (the CLI's --bands). */
  bands?: number[];
  /** One value for all bands, or one per model band (--scale, --offset). */
  scale?: number | number[];
  offset?: number | number[];
  /** --nodata: a stored value meaning no data besides the preset's fill; null removes the preset's fill. */
  nodata?: number | null;
  calibration?: Calibration;
  /** Landsat 8: divide by sin(sun elevation) for sun-corrected TOA reflectance. */
  sunElevationDeg?: number;
  /** Sentinel-2 processing baseline >= 04.00: apply the -1000 DN offset. */
  sentinel2Baseline04?: boolean;
  /** The product's metadata: its DN-to-reflectance scaling (Landsat MTL, Sentinel-2 MTD) or its sun angle (GaoFen XML). */
  metadata?: ProductMetadata;
}

export interface ResolvedBands {
  /** 0-based input bands, in model order. */
  bands: number[];
  channels: Channel[];
  scale: number[];
  offset: number[];
  /** Stored values meaning no data (besides NaN and the file's declared value): the preset's fill and --nodata. */
  nodata: number[];
  /** Whether the scaled values are the preset's own units (TOA reflectance, or display values for `rgb`). */
  calibrated: boolean;
  /** Why they are not, when not: what the user can give to make them so. */
  uncalibrated?: string;
}

function perBand(name: string, value: number | number[], n: number): number[] {
  const list = Array.isArray(value) ? (value.length === 1 ? new Array<number>(n).fill(value[0]) : value) : new Array<number>(n).fill(value);
  if (list.length !== n || !list.every(Number.isFinite)) {
    throw new InputError(`--${name} needs 1 or ${n} finite numbers, got ${JSON.stringify(value)}`);
  }
  return list;
}

/**
 * Resolves a preset plus user overrides for an input with `bandCount` bands, `alphaBand` (0-based) its alpha band
 * if any. Throws InputError naming the option at fault (unknown sensor, band out of range or alpha, wrong number
 * of values).
 */
export function resolveBands(sensor: string, bandCount: number, overrides: BandOverrides = {}, alphaBand: number | null = null): ResolvedBands {
  if (!(SENSORS as readonly string[]).includes(sensor)) {
    throw new InputError(`unknown sensor "${sensor}"; choose one of ${SENSORS.join(', ')}`);
  }
  const preset = PRESETS[sensor as Sensor];
  const n = preset.channels.length;
  const bands = overrides.bands ?? preset.bands;
  if (bands.length !== n) throw new InputError(`--bands needs ${n} band numbers (${preset.channels.join(', ')}) for sensor ${sensor}, got ${bands.length}`);
  for (const b of bands) {
    if (!Number.isInteger(b) || b < 1 || b > bandCount) {
      throw new InputError(
        `band ${b} does not exist: the input has ${bandCount} band(s); sensor ${sensor} expects ${preset.description}` +
          ` (choose input bands with --bands, 1-based, in the order ${preset.channels.join(', ')})`,
      );
    }
    if (b - 1 === alphaBand) {
      throw new InputError(
        `band ${b} is the input's alpha (transparency) band, not data; sensor ${sensor} expects ${preset.description}` +
          ` (choose input bands with --bands, 1-based, in the order ${preset.channels.join(', ')})`,
      );
    }
  }
  const metadata = overrides.metadata;
  if (metadata && sensor !== metadata.sensor) throw new InputError(`describes ${metadata.product}: it applies to --sensor ${metadata.sensor}, not ${sensor}`, metadata.file);
  if (metadata?.scale) return fromMetadata(bands, preset, overrides);
  let scale = perBand('scale', overrides.scale ?? preset.scale, n);
  let offset = perBand('offset', overrides.offset ?? preset.offset, n);
  // The user's own scaling is taken as the reflectance they mean.
  let uncalibrated =
    overrides.scale !== undefined ? undefined
    : sensor === 'rgb' ? 'display values, not reflectance (the rgb model reads them)'
    : sensor === 'landsat7' ? 'DN scaled to 0-1 without radiometric calibration (give --metadata, the product\'s MTL file)'
    : !preset.calibrated && metadata ? `DN scaled to 0-1 without radiometric calibration (give --gain and --esun; ${metadata.file} gives the sun angle)`
    : !preset.calibrated ? 'DN scaled to 0-1 without radiometric calibration (give --gain, --esun and --sun-elevation)'
    : sensor === 'landsat8' && overrides.sunElevationDeg === undefined ? "TOA reflectance without the sun-angle correction (give --sun-elevation, the MTL's SUN_ELEVATION)"
    : undefined;
  if (overrides.calibration) {
    const c = overrides.calibration;
    // The calibration is the scaling: a --scale or --offset beside it would be overwritten, so it is refused.
    const other = overrides.scale !== undefined ? '--scale' : overrides.offset !== undefined ? '--offset' : undefined;
    if (other) throw new InputError('--gain and --esun give the scaling already (TOA reflectance from DN); leave it out', other);
    for (const [given, option] of [[c.sunElevationDeg, '--sun-elevation'], [c.earthSunDistance, '--earth-sun-distance']] as const) {
      if (given !== undefined && metadata?.sunElevationDeg !== undefined) throw new InputError(`the metadata file ${metadata.file} gives it already; leave it out`, option);
    }
    const elevation = c.sunElevationDeg ?? metadata?.sunElevationDeg;
    if (elevation === undefined) throw new InputError('a radiometric calibration needs --sun-elevation (or --metadata with the sun angle)', '--sun-elevation');
    const d = c.earthSunDistance ?? metadata?.earthSunDistance ?? 1;
    const cosZenith = Math.sin((elevation * Math.PI) / 180);
    if (!(cosZenith > 0)) throw new InputError(`sun elevation must be above 0 degrees, got ${elevation}`);
    const gain = perBand('gain', c.gain, n);
    const radOffset = perBand('bias', c.offset, n);
    const esun = perBand('esun', c.esun, n);
    // A zero or negative gain or irradiance makes a band constant, infinite or negated: a quietly all-clear mask.
    for (const [values, option] of [[gain, '--gain'], [esun, '--esun']] as const) {
      if (!values.every((v) => v > 0)) throw new InputError(`must be above 0 for every band, got ${values.join(',')}`, option);
    }
    // TOA reflectance = pi * L * d^2 / (ESUN * cos(solar zenith)), with L = gain * DN + offset.
    scale = gain.map((g, i) => (Math.PI * d * d * g) / (esun[i] * cosZenith));
    offset = radOffset.map((o, i) => (Math.PI * d * d * o) / (esun[i] * cosZenith));
    uncalibrated = undefined;
  }
  if (overrides.sentinel2Baseline04 && sensor !== 'sentinel2') throw new InputError(`applies to --sensor sentinel2, not ${sensor}`, '--s2-baseline04');
  if (overrides.sunElevationDeg !== undefined && sensor !== 'landsat8') {
    throw new InputError(`alone it corrects --sensor landsat8 only, not ${sensor} (for DN products give --gain and --esun with it)`, '--sun-elevation');
  }
  if (sensor === 'sentinel2' && overrides.sentinel2Baseline04 && overrides.offset === undefined) {
    offset = scale.map((s) => -1000 * s);
  }
  if (sensor === 'landsat8' && overrides.sunElevationDeg !== undefined) {
    const sin = Math.sin((overrides.sunElevationDeg * Math.PI) / 180);
    if (!(sin > 0)) throw new InputError(`sun elevation must be above 0 degrees, got ${overrides.sunElevationDeg}`);
    scale = scale.map((s) => s / sin);
    offset = offset.map((o) => o / sin);
  }
  return {
    bands: bands.map((b) => b - 1),
    channels: preset.channels,
    scale,
    offset,
    nodata: nodataValues(preset, overrides.nodata),
    calibrated: uncalibrated === undefined,
    ...(uncalibrated ? { uncalibrated } : {}),
  };
}

/** The preset's fill (unless `given` is null) and the user's value: every one of them means no data. */
function nodataValues(preset: SensorPreset, given: number | null | undefined): number[] {
  const values = given === null || preset.nodata === null ? [] : [preset.nodata];
  if (given !== undefined && given !== null && !values.includes(given)) values.push(given);
  return values;
}

/** The metadata file gives the scaling; any other scaling option would contradict it. */
function fromMetadata(bands: number[], preset: SensorPreset, overrides: BandOverrides): ResolvedBands {
  const m = overrides.metadata!;
  const given = (
    [
      ['--scale', overrides.scale],
      ['--offset', overrides.offset],
      ['--gain', overrides.calibration],
      ['--sun-elevation', overrides.sunElevationDeg],
      ['--s2-baseline04', overrides.sentinel2Baseline04 || undefined],
    ] as const
  ).find(([, v]) => v !== undefined);
  if (given) throw new InputError(`the metadata file ${m.file} gives the scaling already; leave out ${given[0]}`, given[0]);
  return {
    bands: bands.map((b) => b - 1),
    channels: preset.channels,
    scale: [...m.scale!],
    offset: [...m.offset!],
    nodata: nodataValues(preset, overrides.nodata),
    calibrated: true,
  };
}

/** The day baseline 04.00 began: products processed since add 1000 to every DN (RADIO_ADD_OFFSET -1000). */
const BASELINE_04_START = '20220125';

/**
 * Sentinel-2 band files given without their MTD and without `sentinel2Baseline04`: where their names say the
 * product is baseline 04.00 or later (a SAFE folder's `_N0400_`), or was sensed since that baseline began (a band
 * file's `_20230612T103629_B02`), the DN hold the 1000 offset and reflectance would come out 0.1 too high, which
 * floods the mask. Returns that warning, or undefined. (Older scenes reprocessed since carry it too, unseen here.)
 */
export function sentinel2OffsetWarning(inputs: string[], overrides: BandOverrides): string | undefined {
  if (overrides.sentinel2Baseline04 || overrides.metadata || overrides.offset !== undefined) return undefined;
  for (const path of inputs) {
    const baseline = /_MSIL(?:1C|2A)_\d{8}T\d{6}_N(\d{2})(\d{2})_/.exec(path);
    const sensed = /_(\d{8})T\d{6}_B(?:\d{2}|8A)(?:_\d{2}m)?\.\w+$/i.exec(path);
    const why =
      baseline ? (Number(baseline[1]) >= 4 ? `is processing baseline ${baseline[1]}.${baseline[2]} (N${baseline[1]}${baseline[2]} in its path)` : undefined)
      : sensed && sensed[1] >= BASELINE_04_START ? `was sensed on ${sensed[1].slice(0, 4)}-${sensed[1].slice(4, 6)}-${sensed[1].slice(6)}, after processing baseline 04.00 began (2022-01-25)`
      : undefined;
    if (why) {
      return `${path} ${why}: its DN hold a 1000 offset, so give --s2-baseline04 (or --metadata with the product's MTD_MSIL1C.xml or MTD_MSIL2A.xml); without it reflectance is 0.1 too high`;
    }
  }
  return undefined;
}
