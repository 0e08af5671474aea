import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dilate, removeSmall } from '../../src/raster/index.js';

/** Parses a picture: '.' clear, '#' cloud, 'x' nodata. */
function mask(rows: string[]): Uint8Array {
  return Uint8Array.from(rows.join('').split(''), (c) => (c === '#' ? 1 : c === 'x' ? 255 : 0));
}
function picture(m: Uint8Array, width: number): string[] {
  const chars = Array.from(m, (v) => (v === 1 ? '#' : v === 255 ? 'x' : '.')).join('');
  return Array.from({ length: m.length / width }, (_, y) => chars.slice(y * width, (y + 1) * width));
}

describe('dilate', () => {
  it('radius 1 grows by the 4-neighbour cross (diagonals are farther than 1) and never into nodata', () => {
    const input = mask(['......', '..#...', '......', '...x..', '...#x.']);
    assert.deepEqual(picture(dilate(input, 6, 5, 1), 6), ['..#...', '.###..', '..#...', '...x..', '..##x.']);
  });

  it('radius 2 is a disc (no corners at distance sqrt 8)', () => {
    const input = mask(['.......', '.......', '.......', '...#...', '.......', '.......', '.......']);
    assert.deepEqual(picture(dilate(input, 7, 7, 2), 7), [
      '.......', '...#...', '..###..', '.#####.', '..###..', '...#...', '.......',
    ]);
    assert.deepEqual(picture(dilate(input, 7, 7, 1.5), 7), [
      '.......', '.......', '..###..', '..###..', '..###..', '.......', '.......',
    ]);
  });

  it('nodata stays nodata and radius 0 changes nothing; input is not modified', () => {
    const input = mask(['x#x', 'x.x', 'xxx']);
    const copy = input.slice();
    assert.deepEqual(picture(dilate(input, 3, 3, 3), 3), ['x#x', 'x#x', 'xxx']);
    assert.deepEqual(dilate(input, 3, 3, 0), input);
    assert.deepEqual(input, copy);
  });
});

describe('removeSmall', () => {
  it('uses 8-connectivity and keeps regions of at least minSize', () => {
    const input = mask([
      '#.....##',
      '.#....##',
      '..#.....',
      '........',
      '##...#..',
      '.....x..',
    ]);
    // Diagonal chain of 3 is one region (8-connected); the 2x2 block has 4; the pair has 2; the single has 1.
    assert.deepEqual(picture(removeSmall(input, 8, 6, 3), 8), [
      '#.....##',
      '.#....##',
      '..#.....',
      '........',
      '........',
      '.....x..',
    ]);
    assert.deepEqual(picture(removeSmall(input, 8, 6, 4), 8), [
      '......##',
      '......##',
      '........',
      '........',
      '........',
      '.....x..',
    ]);
  });

  it('nodata neither joins nor separates regions and is never changed', () => {
    const input = mask(['#x#', 'xxx', '#x#']);
    assert.deepEqual(picture(removeSmall(input, 3, 3, 2), 3), ['.x.', 'xxx', '.x.']);
  });
});
