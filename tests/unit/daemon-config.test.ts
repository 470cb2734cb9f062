// pgqd.yaml and londisted.yaml: every key documented in the program's table (docs/pgqd.md,
// docs/londisted.md) and in its --ini sample; the shipped examples load; log_format takes text or json
// and nothing else, with an error naming the key, the file and the value.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { validateConfig, type ConfigSpec } from '@skytools/core';
import { repoRoot } from '@skytools/harness';
import { loadSupervisorConfig, sampleSupervisorConfig, SUPERVISOR_SPEC } from '@skytools/londiste';
import { loadPgqdConfig, PGQD_SPEC, samplePgqdConfig } from '@skytools/pgqd';

const PROGRAMS: [string, ConfigSpec, () => string, string][] = [
  ['pgqd', PGQD_SPEC, samplePgqdConfig, 'pgqd.md'],
  ['londisted', SUPERVISOR_SPEC, sampleSupervisorConfig, 'londisted.md'],
];

describe('daemon configuration keys', () => {
  for (const [name, spec, sample, doc] of PROGRAMS) {
    it(`${name}: every key has a row in docs/${doc} and a line in --ini`, () => {
      const text = readFileSync(join(repoRoot(), 'docs', doc), 'utf8');
      const sampleText = sample();
      for (const key of Object.keys(spec)) {
        assert.match(text, new RegExp(`^\\| \`${key}\` \\|`, 'm'), `docs/${doc} lacks a row for ${key}`);
        assert.match(sampleText, new RegExp(`^#?${key}:`, 'm'), `--ini lacks ${key}`);
      }
      assert.ok(YAML.parse(sampleText) !== undefined);
    });
  }

  it('the shipped examples load, in the text format', () => {
    assert.equal(loadPgqdConfig(join(repoRoot(), 'config', 'pgqd.yaml')).log_format, 'text');
    assert.equal(loadSupervisorConfig(join(repoRoot(), 'config', 'londisted.yaml')).log_format, 'text');
  });

  it('log_format: text (default) or json; anything else is refused naming key, file and value', () => {
    assert.equal(validateConfig({}, PGQD_SPEC, 'p.yaml').log_format, 'text');
    assert.equal(validateConfig({ log_format: 'json' }, PGQD_SPEC, 'p.yaml').log_format, 'json');
    assert.equal(validateConfig({ jobs_dir: 'j', log_format: 'text' }, SUPERVISOR_SPEC, 'l.yaml').log_format, 'text');
    for (const bad of ['JSON', 'xml', '', 1, true]) {
      assert.throws(() => validateConfig({ log_format: bad }, PGQD_SPEC, 'p.yaml'), { message: `p.yaml: key "log_format" must be one of text, json (got ${JSON.stringify(bad)})` });
    }
    // upstream's pgqd.ini may carry it too
    const dir = mkdtempSync(join(tmpdir(), 'daemoncfg-'));
    try {
      const ini = join(dir, 'pgqd.ini');
      writeFileSync(ini, '[pgqd]\nlog_format = json\n');
      assert.equal(loadPgqdConfig(ini).log_format, 'json');
      writeFileSync(ini, '[pgqd]\nlog_format = yaml\n');
      assert.throws(() => loadPgqdConfig(ini), /pgqd\.ini: key "log_format" must be one of text, json \(got "yaml"\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
