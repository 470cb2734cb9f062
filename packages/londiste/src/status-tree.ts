/**
 * The `status` tree, drawn as upstream draws it:
 *
 *   Queue: replika   Local node: src_digoal_01
 *
 *   src_digoal_01 (root)
 *     |                           Tables: 0/0/0
 *     |                           Lag: 26s, Tick: 14
 *     +--dst1_digoal_01 (leaf)
 *                                 Tables: 0/0/0
 *                                 Lag: 26s, Tick: 14
 *
 * A node's info lines are printed below its title, continuing the tree's vertical line while
 * siblings follow. Children are ordered by depth, then subtree size, then name.
 */
import type { NodeStatus } from './node-status.js';

const DATA_COLUMN = 30;

/** Upstream's interval format: 1d2h3m4s, leading zero units left out. */
export function formatLag(seconds: number): string {
  let s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${d > 0 ? `${d}d` : ''}${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s}s`;
}

/** The lines under a node's title. */
export function nodeInfoLines(node: NodeStatus): string[] {
  let lag = `Lag: ${node.lagSeconds === null ? '(n/a)' : formatLag(node.lagSeconds)}`;
  if (node.lastTick !== null) lag += `, Tick: ${node.lastTick}`;
  if (node.paused) lag += ', PAUSED';
  if (!node.uptodate) lag += ', NOT UPTODATE';
  const tables = node.infoLines.filter((l) => l.startsWith('Tables:'));
  const rest = node.infoLines.filter((l) => !l.startsWith('Tables:'));
  return [...tables, lag, ...rest];
}

interface TreeNode {
  node: NodeStatus;
  children: TreeNode[];
  levels: number;
  total: number;
}

function buildForest(nodes: readonly NodeStatus[]): TreeNode[] {
  const byName = new Map<string, TreeNode>();
  for (const n of nodes) byName.set(n.name, { node: n, children: [], levels: 1, total: 0 });
  const roots: TreeNode[] = [];
  for (const t of byName.values()) {
    const p = t.node.providerNode;
    const parent = t.node.type !== 'root' && p !== null && p !== t.node.name ? byName.get(p) : undefined;
    if (parent !== undefined) parent.children.push(t);
    else roots.push(t);
  }
  const calc = (t: TreeNode): void => {
    for (const c of t.children) calc(c);
    t.total = t.children.reduce((a, c) => a + 1 + c.total, 0);
    t.levels = 1 + t.children.reduce((a, c) => Math.max(a, c.levels), 0);
    t.children.sort((a, b) => a.levels - b.levels || a.total - b.total || (a.node.name < b.node.name ? -1 : a.node.name > b.node.name ? 1 : 0));
  };
  roots.forEach(calc);
  roots.sort((a, b) => (a.node.type === 'root' ? -1 : b.node.type === 'root' ? 1 : a.node.name.localeCompare(b.node.name)));
  return roots;
}

function withSuffix(prefix: string, suffix: string): string {
  return prefix === '' ? '' : prefix.slice(0, -1) + suffix;
}

function dataLine(prefix: string, text: string): string {
  return prefix.padEnd(DATA_COLUMN, ' ') + text;
}

export function renderStatusTree(queue: string, localNode: string, nodes: readonly NodeStatus[]): string[] {
  const out = [`Queue: ${queue}   Local node: ${localNode}`, ''];
  // a node's data lines are printed by whoever comes next, so they can carry that one's prefix
  const draw = (t: TreeNode, prefix: string, pending: string[]): string[] => {
    for (const l of pending) out.push(dataLine(withSuffix(prefix, '|'), l));
    out.push(`${withSuffix(prefix, '+--')}${t.node.name} (${t.node.type})`);
    let lines = nodeInfoLines(t.node);
    t.children.forEach((c, i) => {
      lines = draw(c, prefix + (i < t.children.length - 1 ? '  |' : '   '), lines);
    });
    return lines;
  };
  for (const root of buildForest(nodes)) {
    for (const l of draw(root, '', [])) out.push(dataLine(' ', l));
  }
  return out;
}

/** `status --compact`: one line per node, its info lines side by side (upstream's --compact). */
export function renderStatusTreeCompact(queue: string, localNode: string, nodes: readonly NodeStatus[]): string[] {
  const out = [`Queue: ${queue}   Local node: ${localNode}`, ''];
  const draw = (t: TreeNode, prefix: string): void => {
    const title = `${t.node.name} (${t.node.type})`;
    out.push((prefix + title.padEnd(60 - prefix.length) + nodeInfoLines(t.node).map((l) => l.padEnd(30)).join('')).trimEnd());
    for (const c of t.children) draw(c, prefix + '   ');
  };
  for (const root of buildForest(nodes)) draw(root, '');
  return out;
}
