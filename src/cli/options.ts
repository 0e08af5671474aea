/** Parsing of option values shared by the commands; every bad value is an InputError naming the option. */
import { InputError } from '../errors.js';

/**
 * `1,2,3`: an empty item (`1,,2`, `1,1,1,`) or an empty list is refused, never read as 0 (`Number('')` is 0, and a
 * scale of 0 or a band 0 would pass for a value the user gave).
 */
export function numberList(value: string | undefined, option: string): number[] | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '') throw new InputError('no value given (expected comma-separated numbers)', option);
  const items = value.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new InputError(`empty value in "${value}"`, option);
  const list = items.map(Number);
  if (list.some((n) => !Number.isFinite(n))) throw new InputError(`expected comma-separated numbers, got "${value}"`, option);
  return list;
}

/** `--bands 2,3,4,5`: numberList, each band once (the same band as red and NIR is a slip, not a choice). */
export function bandList(value: string | undefined, option: string): number[] | undefined {
  const list = numberList(value, option);
  const twice = list?.find((b, i) => list.indexOf(b) !== i);
  if (twice !== undefined) throw new InputError(`band ${twice} is chosen twice (${list!.join(',')}); each model band needs its own input band`, option);
  return list;
}

/** `cam,png`: names from a list, each once; an empty item or an empty list is refused like numberList's. */
export function choiceList<T extends string>(value: string | undefined, option: string, choices: readonly T[]): T[] | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '') throw new InputError(`no value given (expected some of ${choices.join(', ')})`, option);
  const items = value.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new InputError(`empty value in "${value}"`, option);
  for (const s of items) if (!choices.includes(s as T)) throw new InputError(`unknown value "${s}" (${choices.join(', ')})`, option);
  const twice = items.find((s, i) => items.indexOf(s) !== i);
  if (twice !== undefined) throw new InputError(`${twice} is given twice in "${value}"`, option);
  return items as T[];
}

export function numberOption(value: string | undefined, option: string, check: (n: number) => boolean = Number.isFinite, what = 'a number'): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || !check(n)) throw new InputError(`expected ${what}, got "${value}"`, option);
  return n;
}

/** `--scale 0.0001` or `--scale 1,1,1,1`. */
export function scalarOrList(value: string | undefined, option: string): number | number[] | undefined {
  const list = numberList(value, option);
  return list && list.length === 1 ? list[0] : list;
}

export function choice<T extends string>(value: string | undefined, option: string, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!choices.includes(value as T)) throw new InputError(`expected one of ${choices.join(', ')}, got "${value}"`, option);
  return value as T;
}

/**
 * `--offset -0.1`: Node's parseArgs reads a value that begins with `-` as another option ("argument is ambiguous"),
 * so a negative number (or list of numbers) after an option that takes a value is joined to it, `--offset=-0.1`,
 * as the user means it. Landsat's reflectance offset and a threshold or k below 0 are negative.
 */
export function joinNegativeValues(argv: string[], options: Record<string, { type: 'string' | 'boolean' }>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = /^--([^=]+)$/.exec(argv[i])?.[1];
    if (name && options[name]?.type === 'string' && /^-(\d|\.\d)[\d.,eE+-]*$/.test(argv[i + 1] ?? '')) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}
