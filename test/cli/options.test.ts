// Negative numbers after an option: Node's parseArgs alone refuses `--offset -0.1` as ambiguous.
import assert from 'node:assert/strict';
import { parseArgs } from 'node:util';
import { describe, it } from 'node:test';
import { joinNegativeValues } from '../../src/cli/options.js';

describe('joinNegativeValues', () => {
  const options = { offset: { type: 'string' }, k: { type: 'string' }, output: { type: 'string', short: 'o' }, json: { type: 'boolean' } } as const;
  const parse = (argv: string[]) => parseArgs({ args: joinNegativeValues(argv, options), options, allowPositionals: true });

  it('joins a negative number or list to the option before it, as --opt=value', () => {
    const argv = ['a.tif', '--offset', '-0.1,-1e-4', '--k', '-.5', '-o', 'm.tif', '--json'];
    assert.throws(() => parseArgs({ args: argv, options, allowPositionals: true }), /ambiguous/, 'parseArgs alone refuses it');
    const { values, positionals } = parse(argv);
    assert.deepEqual({ ...values }, { offset: '-0.1,-1e-4', k: '-.5', output: 'm.tif', json: true });
    assert.deepEqual(positionals, ['a.tif']);
  });

  it('leaves other options, a boolean before a negative positional, and values already joined as they are', () => {
    assert.deepEqual(joinNegativeValues(['--json', '-1', '--k=-2', '--offset', '-o'], options), ['--json', '-1', '--k=-2', '--offset', '-o']);
  });
});
