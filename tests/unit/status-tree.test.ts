// The `status` tree as upstream londiste3 draws it (the seed's output, and the rules of its
// tree printer): title lines, data lines at column 30 carrying the tree's vertical line while
// siblings follow, children ordered by depth, then subtree size, then name; plus the lag format.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatLag, renderStatusTree, renderStatusTreeCompact } from '@skytools/londiste';

type NodeStatus = Parameters<typeof renderStatusTree>[2][number];

function node(name: string, type: string, providerNode: string | null, more: Partial<NodeStatus> = {}): NodeStatus {
  return { name, type, providerNode, workerName: name, lastTick: null, paused: false, uptodate: true, lagSeconds: null, infoLines: [], ...more };
}

/** Upstream's data line: the tree prefix left-justified to 30 columns ("%-30s%s"), then the text. */
const data = (prefix: string, text: string): string => prefix + ' '.repeat(30 - prefix.length) + text;

describe('status tree', () => {
  it('draws the seed\'s root and leaf exactly', () => {
    const out = renderStatusTree('replika', 'src_digoal_01', [
      node('dst1_digoal_01', 'leaf', 'src_digoal_01', { lastTick: '14', lagSeconds: 26, infoLines: ['Tables: 0/0/0'] }),
      node('src_digoal_01', 'root', null, { lastTick: '14', lagSeconds: 26.7, infoLines: ['Tables: 0/0/0'] }),
    ]);
    // the seed's output, character for character
    assert.deepEqual(out, [
      'Queue: replika   Local node: src_digoal_01',
      '',
      'src_digoal_01 (root)',
      '  |                           Tables: 0/0/0',
      '  |                           Lag: 26s, Tick: 14',
      '  +--dst1_digoal_01 (leaf)',
      '                              Tables: 0/0/0',
      '                              Lag: 26s, Tick: 14',
    ]);
  });

  it('draws branches, leaves, flags, attributes, errors and a dead node', () => {
    const out = renderStatusTree('q', 'n_root', [
      node('n_leaf_z', 'leaf', 'n_root', { lastTick: '120', lagSeconds: 3, paused: true, uptodate: false }),
      node('n_sub2', 'leaf', 'n_branch'),
      node('n_branch', 'branch', 'n_root', {
        lastTick: '119',
        lagSeconds: 65,
        // the Tables line goes first, before the lag, whatever order it came in
        infoLines: ['Attr: x=1', 'Tables: 4/0/0', 'ERR: n_branch: could not connect'],
      }),
      node('n_dead', 'dead', null, { workerName: null }),
      node('n_sub', 'leaf', 'n_branch', { lastTick: '118', lagSeconds: 3725, uptodate: false }),
      node('n_root', 'root', null, { lastTick: '120', lagSeconds: 0.4, infoLines: ['Tables: 7/0/0'] }),
      node('n_leaf_a', 'leaf', 'n_root', { lastTick: '120', lagSeconds: 90061 }),
    ]);
    assert.deepEqual(out, [
      'Queue: q   Local node: n_root',
      '',
      'n_root (root)',
      data('  |', 'Tables: 7/0/0'),
      data('  |', 'Lag: 0s, Tick: 120'),
      '  +--n_leaf_a (leaf)',
      data('  |', 'Lag: 1d1h1m1s, Tick: 120'),
      '  +--n_leaf_z (leaf)',
      data('  |', 'Lag: 3s, Tick: 120, PAUSED, NOT UPTODATE'),
      '  +--n_branch (branch)',
      data('     |', 'Tables: 4/0/0'),
      data('     |', 'Lag: 1m5s, Tick: 119'),
      data('     |', 'Attr: x=1'),
      data('     |', 'ERR: n_branch: could not connect'),
      '     +--n_sub (leaf)',
      data('     |', 'Lag: 1h2m5s, Tick: 118, NOT UPTODATE'),
      '     +--n_sub2 (leaf)',
      data('', 'Lag: (n/a)'),
      'n_dead (dead)',
      data('', 'Lag: (n/a)'),
    ]);
  });

  it('orders children by depth, then subtree size, then name', () => {
    const out = renderStatusTree('q', 'r', [
      node('b_big', 'branch', 'r'),
      node('b_big_1', 'leaf', 'b_big'),
      node('b_big_2', 'leaf', 'b_big'),
      node('z_leaf', 'leaf', 'r'),
      node('b_small', 'branch', 'r'),
      node('b_small_1', 'leaf', 'b_small'),
      node('a_leaf', 'leaf', 'r'),
      node('r', 'root', null),
    ]);
    const titles = out.filter((l) => / \((root|branch|leaf)\)$/.test(l));
    assert.deepEqual(titles, [
      'r (root)',
      '  +--a_leaf (leaf)',
      '  +--z_leaf (leaf)',
      '  +--b_small (branch)',
      '  |  +--b_small_1 (leaf)',
      '  +--b_big (branch)',
      '     +--b_big_1 (leaf)',
      '     +--b_big_2 (leaf)',
    ]);
    // the line of a branch's last child continues the parent's line while the parent has more children
    assert.equal(out[out.indexOf('  |  +--b_small_1 (leaf)') + 1], data('  |', 'Lag: (n/a)'));
  });

  it('draws a node whose provider is not a member as a tree of its own', () => {
    const out = renderStatusTree('q', 'r', [node('r', 'root', null, { lagSeconds: 1 }), node('lost', 'leaf', 'gone', { lagSeconds: 2 })]);
    assert.deepEqual(out.slice(2), ['r (root)', data('', 'Lag: 1s'), 'lost (leaf)', data('', 'Lag: 2s')]);
  });
});

describe('status --compact', () => {
  it('puts each node on one line, its info lines side by side in 30-column cells, children indented by three', () => {
    const out = renderStatusTreeCompact('replika', 'b', [
      node('a', 'root', null, { lastTick: '9', lagSeconds: 1, infoLines: ['Tables: 1/0/0'] }),
      node('b', 'branch', 'a', { lastTick: '9', lagSeconds: 0, paused: true, infoLines: ['Tables: 1/0/0'] }),
      node('c', 'leaf', 'b', { lastTick: '8', lagSeconds: 2, infoLines: ['Tables: 0/1/0'] }),
    ]);
    assert.deepEqual(out, [
      'Queue: replika   Local node: b',
      '',
      'a (root)'.padEnd(60) + 'Tables: 1/0/0'.padEnd(30) + 'Lag: 1s, Tick: 9',
      '   b (branch)'.padEnd(60) + 'Tables: 1/0/0'.padEnd(30) + 'Lag: 0s, Tick: 9, PAUSED',
      '      c (leaf)'.padEnd(60) + 'Tables: 0/1/0'.padEnd(30) + 'Lag: 2s, Tick: 8',
    ]);
  });
});

describe('lag format', () => {
  it('writes days, hours, minutes and seconds, leaving out leading zero units', () => {
    const cases: [number, string][] = [
      [0, '0s'], [0.99, '0s'], [59.9, '59s'], [60, '1m0s'], [61, '1m1s'], [3600, '1h0s'], [3601, '1h1s'],
      [3661, '1h1m1s'], [86_399, '23h59m59s'], [86_400, '1d0s'], [90_061, '1d1h1m1s'], [172_805, '2d5s'], [-3, '0s'],
    ];
    assert.deepEqual(cases.map(([s]) => [s, formatLag(s)]), cases);
  });
});
