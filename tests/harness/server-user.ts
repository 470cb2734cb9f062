/**
 * PostgreSQL refuses to run as root. When the tests run as root, servers run as the `postgres`
 * OS user, created on first use, and the binaries must be reachable by that user.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { PgInstall } from './versions.js';

export interface ServerUser {
  uid: number;
  gid: number;
  name: string;
}

const SERVER_USER = 'postgres';

function lookup(name: string): ServerUser | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { uid, gid, name };
  } catch {
    return undefined;
  }
}

let resolved: ServerUser | null | undefined;

/** The user servers run as, or null when the tests are not root and servers run as ourselves. */
export function serverUser(): ServerUser | null {
  if (resolved !== undefined) return resolved;
  if (process.getuid?.() !== 0) {
    resolved = null;
    return resolved;
  }
  let user = lookup(SERVER_USER);
  if (user === undefined) {
    const r = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/bin/sh', SERVER_USER], {
      encoding: 'utf8',
    });
    user = lookup(SERVER_USER);
    if (user === undefined) {
      throw new Error(`running as root and cannot create the "${SERVER_USER}" OS user: ${r.stderr || r.error?.message || 'useradd failed'}`);
    }
  }
  resolved = user;
  return resolved;
}

function canExecute(user: ServerUser, file: string): boolean {
  const r = spawnSync(file, ['--version'], { uid: user.uid, gid: user.gid, stdio: 'ignore' });
  return r.status === 0;
}

/**
 * A bin directory the server user can execute. npm packages under a private home directory
 * (mode 0700) are not reachable by `postgres`, so their whole tree is copied once into a shared,
 * world-readable cache keyed by package path.
 */
export function reachableBinDir(install: PgInstall): string {
  const user = serverUser();
  if (user === null || canExecute(user, join(install.binDir, 'postgres'))) return install.binDir;
  const nativeDir = dirname(install.binDir);
  const key = `${install.major}-${Buffer.from(nativeDir).toString('base64url').slice(-40)}`;
  const cacheRoot = join(tmpdir(), 'skytools-pgbin-cache');
  const target = join(cacheRoot, key);
  if (!existsSync(join(target, 'bin', 'postgres'))) {
    mkdirSync(cacheRoot, { recursive: true, mode: 0o755 });
    const staging = `${target}.tmp-${process.pid}`;
    cpSync(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
    try {
      renameSync(staging, target);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // a parallel test file won the race
    }
  }
  const bin = join(target, basename(install.binDir));
  if (!canExecute(user, join(bin, 'postgres'))) {
    throw new Error(`the "${user.name}" OS user cannot execute ${join(bin, 'postgres')}; check the permissions of ${cacheRoot}`);
  }
  return bin;
}
