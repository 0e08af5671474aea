/**
 * Numeric options' valid values, held by the library (detect, trainModel) so that a library caller's bad value is
 * refused as the CLI's is: each rule is the option's CLI name, its test, and what it takes, for the message.
 */
import { InputError } from './errors.js';

export type NumberRule = readonly [option: string, check: (n: number) => boolean, what: string];

export const wholeNumber = (n: number) => Number.isInteger(n) && n >= 0;
export const positiveWhole = (n: number) => Number.isInteger(n) && n > 0;

/** InputError naming the option of the first value that breaks its rule; undefined and null (off) pass. */
export function checkNumbers(rules: Record<string, NumberRule>, options: object): void {
  for (const [key, [option, check, what]] of Object.entries(rules)) {
    const value = (options as Record<string, unknown>)[key];
    if (value === undefined || value === null) continue;
    if (!(typeof value === 'number' && Number.isFinite(value) && check(value))) throw new InputError(`expected ${what}, got ${String(value)}`, option);
  }
}
