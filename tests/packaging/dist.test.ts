// `make dist` (docs/operations.md, "npm"): npm tarballs of core, pgqd and londiste; pgqd and londiste
// carry every run-time dependency (core and its SQL included), so `npm install -g` of the two, as the
// docs say, works with no registry at all (--offline) and gives working pgqd, londisted and londiste.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SKYTOOLS_TS_VERSION } from '@skytools/core';
import { made, runMake } from './run-make.js';

const TARBALLS = ['skytools-core', 'skytools-pgqd', 'skytools-londiste', 'skytools-pgq'].map((n) => `${n}-${SKYTOOLS_TS_VERSION}.tgz`);

function listing(tarball: string): string[] {
  const r = spawnSync('tar', ['tzf', tarball], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '');
}

function manifest(tarball: string): Record<string, unknown> {
  const r = spawnSync('tar', ['xzf', tarball, '-O', 'package/package.json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('make dist', () => {
  const out = mkdtempSync(join(tmpdir(), 'skytools-dist-'));
  const tgz = (i: number): string => join(out, TARBALLS[i] ?? '');

  before(() => {
    made(runMake('dist', {}, { DIST_DIR: out }), 'make dist');
  });
  after(() => {
    rmSync(out, { recursive: true, force: true });
  });

  it('packs the four workspace packages', () => {
    assert.deepEqual(readdirSync(out).sort(), [...TARBALLS].sort());
    for (let i = 0; i < TARBALLS.length; i++) {
      const pj = manifest(tgz(i));
      assert.equal(pj['private'], undefined, `${TARBALLS[i]}: installable`);
      assert.equal(pj['devDependencies'], undefined);
      assert.equal(pj['version'], SKYTOOLS_TS_VERSION);
      const own = listing(tgz(i)).filter((f) => !f.startsWith('package/node_modules/'));
      assert.ok(own.length > 0 && !own.some((f) => f.endsWith('.tsbuildinfo') || f.startsWith('package/src/')), `${TARBALLS[i]}: built files only`);
    }
    const core = listing(tgz(0));
    assert.ok(core.includes('package/schema/pgq/install.sql') && core.includes('package/dist/index.js'), 'core carries its SQL');
  });

  it('pgqd, londiste and pgq bundle core (with its SQL) and every run-time dependency', () => {
    for (const [i, bins] of [[1, ['pgqd']], [2, ['londiste', 'londisted']], [3, ['pgq']]] as const) {
      const files = new Set(listing(tgz(i)));
      const pj = manifest(tgz(i));
      assert.equal(pj['bundleDependencies'], true);
      assert.deepEqual(Object.keys(pj['bin'] as object).sort(), [...bins].sort());
      for (const f of ['node_modules/@skytools/core/dist/index.js', 'node_modules/@skytools/core/schema/londiste/install.sql', 'node_modules/pg/package.json', 'node_modules/winston/package.json', 'node_modules/yaml/package.json', 'node_modules/yargs/package.json']) {
        assert.ok(files.has(`package/${f}`), `${TARBALLS[i]}: ${f}`);
      }
    }
    assert.ok(listing(tgz(2)).includes('package/node_modules/p-queue/package.json'));
  });

  it('npm install -g of pgqd, londiste and pgq works offline and gives the four programs', () => {
    const prefix = join(out, 'global');
    const r = spawnSync('npm', ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tgz(1), tgz(2), tgz(3)], { encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    for (const p of ['pgqd', 'londisted', 'londiste', 'pgq']) {
      const v = spawnSync(join(prefix, 'bin', p), ['--version'], { encoding: 'utf8', cwd: tmpdir() });
      assert.equal(v.stdout.trim(), SKYTOOLS_TS_VERSION, `${p}: ${v.stderr}`);
    }
    // the bundled core finds its own SQL, not the repository's
    const core = join(prefix, 'lib', 'node_modules', '@skytools', 'londiste', 'node_modules', '@skytools', 'core');
    const probe = spawnSync(process.execPath, ['--input-type=module', '-e', `import { schemaDir } from ${JSON.stringify(join(core, 'dist', 'internal.js'))}; process.stdout.write(schemaDir());`], { encoding: 'utf8', env: { ...process.env, SKYTOOLS_SCHEMA_DIR: '' } });
    assert.equal(probe.stdout, join(core, 'schema'), probe.stderr);
    assert.ok(existsSync(join(core, 'schema', 'pgq', 'install.sql')));
  });
});
