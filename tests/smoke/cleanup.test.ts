import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { processExists, testVersions } from '@skytools/harness';

const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'abandon-cluster.js');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function abandon(major: number, how: string): Promise<{ baseDir: string; pid: number }> {
  const child = spawn(process.execPath, [fixture, String(major), how], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.resume();
  await new Promise((r) => child.on('close', r));
  const line = out.split('\n').find((l) => l.startsWith('{'));
  assert.ok(line, `fixture printed no cluster info: ${out}`);
  return JSON.parse(line) as { baseDir: string; pid: number };
}

async function gone(info: { baseDir: string; pid: number }): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if (!existsSync(info.baseDir) && !processExists(info.pid)) return true;
    await sleep(100);
  }
  return false;
}

// One version is enough: the guard does not depend on the server version.
const major = testVersions()[0] ?? 15;

describe('cleanup when the test process dies with a running cluster', () => {
  for (const how of ['SIGKILL', 'SIGINT', 'throw']) {
    it(`server stopped and directory removed after ${how}`, async () => {
      const info = await abandon(major, how);
      assert.ok(info.pid > 0);
      assert.ok(await gone(info), `cluster ${info.baseDir} (postmaster ${info.pid}) still there after ${how}`);
    });
  }
});
