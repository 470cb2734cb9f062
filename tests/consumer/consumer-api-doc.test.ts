// docs/consumer-api.md's complete example (the ```js example block) runs as written against a
// real database with the pgq schema and a ticker, and prints what the document says it prints;
// the queue's events and the table it fills are checked too.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { installSchemas } from '@skytools/core';
import { repoRoot, startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { runProgram } from '../cli/run-londiste.js';
import { startTicker } from '../replication/replication-env.js';

const major = testVersions().at(-1) ?? 15;

describe(`docs/consumer-api.md example, PostgreSQL ${major}`, () => {
  let cluster: PgCluster;
  let ticker: { stop: () => Promise<void> } | undefined;
  // inside the repository: the example's imports resolve from its node_modules
  const dir = mkdtempSync(join(repoRoot(), 'tests', 'dist', 'doc-example-'));

  before(async () => {
    cluster = await startCluster(major);
    await cluster.createDatabase('shop');
    await cluster.withClient('shop', (c) => installSchemas(c, ['pgq']));
    ticker = startTicker(cluster, 'shop', 100);
  });
  after(async () => {
    await ticker?.stop();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs as written and prints the names greeted', async () => {
    const doc = readFileSync(join(repoRoot(), 'docs', 'consumer-api.md'), 'utf8');
    const code = /```js example\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(code !== undefined, 'the document has a ```js example block');
    const printed = /console\.log\([^;]*;\s*\/\/ (.+)$/m.exec(code)?.[1];
    assert.ok(printed !== undefined, 'the example says what it prints');
    const file = join(dir, 'example.mjs');
    writeFileSync(file, code);
    const r = await runProgram(process.execPath, [file], { env: { PGQ_EXAMPLE_DB: cluster.url('shop') } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), printed);
    const rows = await cluster.query<{ n: number }>('shop', 'SELECT count(*)::int AS n FROM greeted');
    assert.equal(rows[0]?.n, 3);
  });
});
