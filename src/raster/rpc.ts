/**
 * Rational polynomial coefficients (RPC00B): the sensor model of unrectified imagery. GaoFen-1/2 and ZiYuan-3
 * L1A products, and most very-high-resolution deliveries, have no geotransform; they place pixels on the ground
 * through RPCs, in the TIFF (tag 50844) or beside it (`.rpb`, `_rpc.txt`). A mask on the same pixel grid has the
 * same RPCs, and carrying them lets `gdalwarp -rpc` orthorectify the mask exactly as the image.
 *
 * Held as the tag's 92 numbers, GDAL's order: error bias, error random, line, sample, latitude, longitude and
 * height offsets, the same five scales, then 20 line numerator, 20 line denominator, 20 sample numerator and 20
 * sample denominator coefficients.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';

export const RPC_TAG = 50844;
export const RPC_COUNT = 92;

const SCALARS = ['ERR_BIAS', 'ERR_RAND', 'LINE_OFF', 'SAMP_OFF', 'LAT_OFF', 'LONG_OFF', 'HEIGHT_OFF',
  'LINE_SCALE', 'SAMP_SCALE', 'LAT_SCALE', 'LONG_SCALE', 'HEIGHT_SCALE'] as const;
const POLYNOMIALS = ['LINE_NUM', 'LINE_DEN', 'SAMP_NUM', 'SAMP_DEN'] as const;
/** The .rpb names of the same values. */
const RPB_SCALARS = ['errBias', 'errRand', 'lineOffset', 'sampOffset', 'latOffset', 'longOffset', 'heightOffset',
  'lineScale', 'sampScale', 'latScale', 'longScale', 'heightScale'];
const RPB_POLYNOMIALS = ['lineNumCoef', 'lineDenCoef', 'sampNumCoef', 'sampDenCoef'];

/** The RPCs of a TIFF: its sidecar's where it has one (as GDAL reads them), else its own tag's. */
export interface RpcFound {
  coefficients: number[] | null;
  /** Why a file that looks like RPCs was not taken: for the source's warnings. */
  warning?: string;
}

/** What is wrong with a set of coefficients, or null. */
function problem(values: number[]): string | null {
  if (values.length !== RPC_COUNT) return `${values.length} numbers, not ${RPC_COUNT}`;
  if (!values.every(Number.isFinite)) return 'a value that is not a number';
  // Offsets 2-6 may be anything; scales 7-11 divide, so a zero scale is no model.
  if (values.slice(7, 12).some((v) => v === 0)) return 'a zero scale';
  return null;
}

/** `KEY = value;` and `KEY = ( v, v, ... );` of a DigitalGlobe-style .rpb file (GaoFen and ZiYuan deliveries use it). */
export function parseRpb(text: string): number[] | string {
  const values: number[] = [];
  for (const key of RPB_SCALARS) {
    // errBias and errRand are optional in some writers; GDAL then reports -1 ("unknown").
    const m = new RegExp(`\\b${key}\\s*=\\s*([^;]+);`).exec(text);
    if (!m && key.startsWith('err')) { values.push(-1); continue; }
    if (!m) return `no ${key}`;
    values.push(Number(m[1].trim()));
  }
  for (const key of RPB_POLYNOMIALS) {
    const m = new RegExp(`\\b${key}\\s*=\\s*\\(([^)]*)\\)`).exec(text);
    if (!m) return `no ${key}`;
    const terms = m[1].split(',').map((v) => v.trim()).filter((v) => v !== '').map(Number);
    if (terms.length !== 20) return `${key} has ${terms.length} terms, not 20`;
    values.push(...terms);
  }
  return problem(values) ?? values;
}

/** `KEY: value` lines of an IKONOS-style `_rpc.txt` (what GDAL writes with RPCTXT=YES). */
export function parseRpcTxt(text: string): number[] | string {
  const fields = new Map<string, number>();
  for (const line of text.split(/\r?\n/)) {
    // Values may carry units ("+004683.00 pixels", "+32.5709 degrees").
    const m = /^\s*([A-Z_0-9]+)\s*:\s*([-+0-9.eE]+)/.exec(line);
    if (m) fields.set(m[1], Number(m[2]));
  }
  const values: number[] = [];
  for (const key of SCALARS) {
    const v = fields.get(key);
    if (v === undefined && key.startsWith('ERR')) { values.push(-1); continue; }
    if (v === undefined) return `no ${key}`;
    values.push(v);
  }
  for (const key of POLYNOMIALS) {
    for (let i = 1; i <= 20; i++) {
      const v = fields.get(`${key}_COEFF_${i}`);
      if (v === undefined) return `no ${key}_COEFF_${i}`;
      values.push(v);
    }
  }
  return problem(values) ?? values;
}

/** The RPC files GDAL reads beside the TIFF at `path`, in its order (a product archive takes them out with it). */
export function rpcSidecars(path: string): string[] {
  const stem = join(dirname(path), basename(path, extname(path)));
  return [`${stem}.RPB`, `${stem}.rpb`, `${stem}_RPC.TXT`, `${stem}_rpc.txt`];
}

/**
 * The RPCs GDAL would report for the TIFF at `path`: a sidecar with the TIFF's name and the extension `.rpb`
 * (either case), else `<name>_rpc.txt` (either case), else the tag's values. A sidecar that cannot be read is
 * passed over with a warning, as the image itself is still readable.
 */
export async function findRpc(path: string, tag: number[] | undefined): Promise<RpcFound> {
  const text = async (p: string) => readFile(p, 'latin1').catch(() => undefined);
  const candidates = rpcSidecars(path).map((file): [string, (t: string) => number[] | string] => [file, /\.rpb$/i.test(file) ? parseRpb : parseRpcTxt]);
  const warnings: string[] = [];
  for (const [file, parse] of candidates) {
    const content = await text(file);
    if (content === undefined) continue;
    const parsed = parse(content);
    if (typeof parsed !== 'string') return { coefficients: parsed };
    warnings.push(`the RPC file ${basename(file)} could not be read (${parsed})`);
  }
  let coefficients: number[] | null = null;
  if (tag) {
    const why = problem(tag);
    if (why) warnings.push(`the RPC tag of ${basename(path)} holds ${why}`);
    else coefficients = tag;
  }
  const lost = coefficients ? `; the RPCs of the TIFF's own tag are carried` : ', so the outputs carry no RPCs';
  return warnings.length ? { coefficients, warning: `${warnings.join('; ')}${lost}` } : { coefficients };
}
