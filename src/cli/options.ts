/** Parsing of option values shared by the commands; every bad value is an InputError naming the option. */
import { InputError } from '../errors.js';

export function numberList(value: string | undefined, option: string): number[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isFinite(n))) throw new InputError(`expected comma-separated numbers, got "${value}"`, option);
  return list;
}

export function numberOption(value: string | undefined, option: string, check: (n: number) => boolean = Number.isFinite, what = 'a number'): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || !check(n)) throw new InputError(`expected ${what}, got "${value}"`, option);
  return n;
}

export const wholeNumber = (n: number) => Number.isInteger(n) && n >= 0;
export const positiveWhole = (n: number) => Number.isInteger(n) && n > 0;

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
