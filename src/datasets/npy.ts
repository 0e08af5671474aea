/**
 * A small reader for NumPy .npy files (format versions 1.0, 2.0, 3.0).
 *
 * Supported: dtypes bool, u1, i1, u2, i2, u4, i4, u8, i8, f4, f8 in either byte order ('<', '>', '|', '='),
 * C order of any shape, and Fortran order for 0-d/1-d arrays (where the two orders coincide). Scalars (shape ())
 * have one element. Not supported (clear InputError): object arrays (pickles), structured/record dtypes,
 * float16, complex, strings, Fortran-ordered arrays of 2 or more dimensions.
 *
 * Data comes back in the matching typed array (bool -> Uint8Array of 0/1, i8/u8 -> BigInt64Array/BigUint64Array),
 * in the platform's byte order; `npyNumbers` converts any of them to plain numbers.
 */
import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.js';

export type NpyData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

export interface NpyArray {
  /** NumPy type string without byte order, e.g. 'f4', 'i8', 'b1'. */
  dtype: string;
  /** Byte order of the file: 'little', 'big', or 'none' for 1-byte types. */
  byteOrder: 'little' | 'big' | 'none';
  shape: number[];
  fortranOrder: boolean;
  /** Elements in C order, product(shape) long (1 for a scalar). */
  data: NpyData;
  /** File format version, e.g. [1, 0]. */
  version: [number, number];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

interface TypeInfo {
  size: number;
  make(n: number): NpyData;
  get(view: DataView, offset: number, little: boolean): number | bigint;
}

const TYPES: Record<string, TypeInfo> = {
  b1: { size: 1, make: (n) => new Uint8Array(n), get: (v, o) => (v.getUint8(o) !== 0 ? 1 : 0) },
  u1: { size: 1, make: (n) => new Uint8Array(n), get: (v, o) => v.getUint8(o) },
  i1: { size: 1, make: (n) => new Int8Array(n), get: (v, o) => v.getInt8(o) },
  u2: { size: 2, make: (n) => new Uint16Array(n), get: (v, o, l) => v.getUint16(o, l) },
  i2: { size: 2, make: (n) => new Int16Array(n), get: (v, o, l) => v.getInt16(o, l) },
  u4: { size: 4, make: (n) => new Uint32Array(n), get: (v, o, l) => v.getUint32(o, l) },
  i4: { size: 4, make: (n) => new Int32Array(n), get: (v, o, l) => v.getInt32(o, l) },
  u8: { size: 8, make: (n) => new BigUint64Array(n), get: (v, o, l) => v.getBigUint64(o, l) },
  i8: { size: 8, make: (n) => new BigInt64Array(n), get: (v, o, l) => v.getBigInt64(o, l) },
  f4: { size: 4, make: (n) => new Float32Array(n), get: (v, o, l) => v.getFloat32(o, l) },
  f8: { size: 8, make: (n) => new Float64Array(n), get: (v, o, l) => v.getFloat64(o, l) },
};

const ALIASES: Record<string, string> = { '?': 'b1', b: 'i1', B: 'u1' };

function fail(message: string, path: string): never {
  throw new InputError(`not a readable .npy file: ${message}`, path);
}

/** Parses the header dictionary, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } */
function parseHeader(text: string, path: string): { descr: string; fortranOrder: boolean; shape: number[] } {
  const t = text.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) fail(`header is not a dictionary: ${JSON.stringify(t.slice(0, 80))}`, path);
  const descr = /['"]descr['"]\s*:\s*(['"])([^'"]*)\1/.exec(t);
  if (!descr) {
    if (/['"]descr['"]\s*:\s*\[/.test(t)) fail('structured (record) dtypes are not supported', path);
    fail(`header has no string 'descr': ${t}`, path);
  }
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(t);
  if (!fortran) fail(`header has no 'fortran_order': ${t}`, path);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(t);
  if (!shape) fail(`header has no 'shape' tuple: ${t}`, path);
  const dims = shape[1]!
    .split(',')
    .map((s) => s.trim().replace(/L$/, ''))
    .filter((s) => s.length > 0)
    .map((s) => {
      if (!/^\d+$/.test(s)) fail(`bad shape entry "${s}"`, path);
      return Number(s);
    });
  return { descr: descr[2]!, fortranOrder: fortran[1] === 'True', shape: dims };
}

/** Parses the bytes of a .npy file. `path` is only used in messages. */
export function parseNpy(bytes: Uint8Array, path = '(npy)'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) fail('missing the \\x93NUMPY magic', path);
  const major = bytes[6]!;
  const minor = bytes[7]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail('truncated header', path);
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    fail(`unsupported format version ${major}.${minor}`, path);
  }
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) fail('truncated header', path);
  const headerBytes = bytes.subarray(headerStart, dataStart);
  const headerText = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(headerBytes);
  const { descr, fortranOrder, shape } = parseHeader(headerText, path);

  const orderChar = descr[0]!;
  let code = '<>|='.includes(orderChar) ? descr.slice(1) : descr;
  code = ALIASES[code] ?? code;
  if (code === 'O') fail("object arrays (dtype 'O', pickled Python objects) are not supported", path);
  const info = TYPES[code];
  if (!info) fail(`unsupported dtype '${descr}' (supported: bool, u1, i1, u2, i2, u4, i4, u8, i8, f4, f8)`, path);
  let byteOrder: NpyArray['byteOrder'];
  if (info.size === 1) byteOrder = 'none';
  else if (orderChar === '>') byteOrder = 'big';
  else if (orderChar === '<' || orderChar === '=' || !'<>|='.includes(orderChar)) byteOrder = 'little';
  else fail(`dtype '${descr}' has no byte order`, path);
  if (fortranOrder && shape.filter((d) => d !== 1).length > 1) {
    fail(`Fortran-ordered arrays of shape (${shape.join(', ')}) are not supported; save in C order`, path);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const needed = count * info.size;
  if (bytes.length - dataStart < needed) {
    fail(`data is truncated: shape (${shape.join(', ')}) of ${descr} needs ${needed} bytes, file has ${bytes.length - dataStart}`, path);
  }
  const data = info.make(count);
  const little = byteOrder !== 'big';
  const set = data as unknown as { [i: number]: number | bigint };
  for (let i = 0, o = dataStart; i < count; i++, o += info.size) set[i] = info.get(view, o, little);
  return { dtype: code, byteOrder, shape, fortranOrder, data, version: [major, minor] };
}

export async function readNpy(path: string): Promise<NpyArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new InputError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, path);
  }
  return parseNpy(bytes, path);
}

/** The elements as plain numbers (64-bit integers beyond 2^53 throw). */
export function npyNumbers(array: NpyArray, path = '(npy)'): number[] {
  const out: number[] = [];
  for (const v of array.data as Iterable<number | bigint>) {
    if (typeof v === 'bigint') {
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new InputError(`value ${v} does not fit a JavaScript number`, path);
      }
      out.push(Number(v));
    } else out.push(v);
  }
  return out;
}

/**
 * Reads a block label file (`<name>_bl.npy`): a scalar or single-element array holding 0 or 1 (any numeric dtype,
 * bool included). Anything else throws InputError.
 */
export async function readBlockLabel(path: string): Promise<0 | 1> {
  const array = await readNpy(path);
  const values = npyNumbers(array, path);
  if (values.length !== 1) {
    throw new InputError(`a block label file must hold one value, this one has shape (${array.shape.join(', ')})`, path);
  }
  const v = values[0]!;
  if (v !== 0 && v !== 1) throw new InputError(`block label must be 0 (clear) or 1 (cloudy), found ${v}`, path);
  return v;
}
