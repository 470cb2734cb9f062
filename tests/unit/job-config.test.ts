import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { repoRoot } from '@skytools/harness';
import { JOB_SPEC, loadJobConfig, sampleJobConfig } from '@skytools/londiste';

describe('londiste job files', () => {
  it('the shipped examples are valid', () => {
    const dir = join(repoRoot(), 'config', 'jobs.d');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 3);
    for (const f of files) {
      const job = loadJobConfig(join(dir, f));
      assert.equal(job.queue_name, 'replika');
      assert.equal(job.job_name, f.replace(/\.yaml$/, ''));
      assert.equal(job.loop_delay, 1000);
    }
  });

  it('the --ini sample documents every key and parses back', () => {
    const text = sampleJobConfig();
    for (const key of Object.keys(JOB_SPEC)) assert.match(text, new RegExp(`^#?${key}:`, 'm'), `sample lacks ${key}`);
    const doc = YAML.parse(text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(doc).sort(), ['db', 'queue_name']);
  });

  it('rejects unknown keys and bad values naming key and file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobcfg-'));
    try {
      const f = join(dir, 'j.yaml');
      writeFileSync(f, 'db: "dbname=x"\nqueue_name: q\nloop_dely: 1\n');
      assert.throws(() => loadJobConfig(f), /j\.yaml: unknown key "loop_dely"/);
      writeFileSync(f, 'db: "dbname=x"\nqueue_name: q\nloop_delay: soon\n');
      assert.throws(() => loadJobConfig(f), /j\.yaml: key "loop_delay" must be a duration/);
      writeFileSync(f, 'queue_name: q\n');
      assert.throws(() => loadJobConfig(f), /j\.yaml: key "db" is required/);
      writeFileSync(f, 'db: "dbname=x"\nqueue_name: q\nloop_delay: 250ms\njob_name: custom\n');
      const job = loadJobConfig(f);
      assert.equal(job.loop_delay, 250);
      assert.equal(job.job_name, 'custom');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
