// metrics_listen addresses (a bare port binds the loopback interface only) and the Prometheus text
// the listener serves (label values escaped, families declared once, before their samples).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetricsText, parseListenAddress } from '@skytools/core';

describe('metrics_listen address', () => {
  it('reads PORT, HOST:PORT and [IPv6]:PORT', () => {
    assert.deepEqual(parseListenAddress('9187'), { host: '127.0.0.1', port: 9187 });
    assert.deepEqual(parseListenAddress('0'), { host: '127.0.0.1', port: 0 });
    assert.deepEqual(parseListenAddress('0.0.0.0:9187'), { host: '0.0.0.0', port: 9187 });
    assert.deepEqual(parseListenAddress('metrics.example.org:80'), { host: 'metrics.example.org', port: 80 });
    assert.deepEqual(parseListenAddress('[::1]:9187'), { host: '::1', port: 9187 });
  });

  it('refuses anything else with the forms it takes', () => {
    for (const bad of ['', 'localhost', 'localhost:', ':', '::1:9187', '[::1]9187', 'host:99999', 'host:12x', 'a b:1', 'host9187']) {
      assert.throws(() => parseListenAddress(bad), /is not an address to listen on: write PORT, HOST:PORT or \[IPv6\]:PORT/, JSON.stringify(bad));
    }
  });
});

describe('Prometheus text', () => {
  it('escapes label values and declares each family once', () => {
    const m = new MetricsText();
    m.family('x_total', 'counter', 'Things.\nCounted.').sample('x_total', 3, { table: 'a"b\\c\nd' }).family('x_total', 'counter', 'again');
    m.sample('x_total', NaN);
    assert.equal(m.toString(), '# HELP x_total Things.\\nCounted.\n# TYPE x_total counter\nx_total{table="a\\"b\\\\c\\nd"} 3\nx_total NaN\n');
    assert.throws(() => m.sample('y', 1), /before its family/);
  });
});
