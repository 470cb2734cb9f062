/**
 * pgqd's metrics (Prometheus text at /metrics of metrics_listen) and status (JSON and a small
 * page at /): per database served, totals since the start of the process. docs/pgqd.md lists
 * each metric with its meaning.
 */
import { MetricsText, SKYTOOLS_TS_VERSION } from '@skytools/core';

/** One database's totals, kept by its DatabaseWorker. */
export class DatabaseStats {
  /** Queues ticked (pgq.ticker() results summed). */
  ticks = 0;
  tickerRuns = 0;
  tickerSeconds = 0;
  lastTickerAt: number | null = null;
  maintRuns = 0;
  /** Maintenance calls and VACUUMs done. */
  maintOperations = 0;
  retriedEvents = 0;
  errors = 0;
  /** The last run of each loop succeeded. */
  failing = new Set<string>();
}

/**
 * What pgqd could not reach in its last discovery round: the database list itself (discovery
 * through initial_database), or databases it could not check for pgq. Neither has a
 * DatabaseStats, so without these they would show no series at all, and alerts on pgqd_up
 * would never fire for them.
 */
export interface PgqdReach {
  /** Why the last listing of databases failed; null when it succeeded. */
  discoveryError: string | null;
  /** Database name → why it could not be checked for pgq in the last round. */
  unreachable: ReadonlyMap<string, string>;
}

const REACHED: PgqdReach = { discoveryError: null, unreachable: new Map() };

export function pgqdMetrics(databases: ReadonlyMap<string, DatabaseStats>, reach: PgqdReach = REACHED): string {
  const m = new MetricsText().processMetrics('pgqd', SKYTOOLS_TS_VERSION);
  m.single('pgqd_databases', 'gauge', 'Databases served (with a pgq schema).', databases.size);
  m.single('pgqd_discovery_up', 'gauge', 'The last round listing the databases to serve succeeded (1) or failed (0).', reach.discoveryError === null ? 1 : 0);
  m.family('pgqd_database_unreachable', 'gauge', 'A database pgqd could not connect to, or check for pgq, in its last discovery round (1); absent once reached.');
  for (const db of [...reach.unreachable.keys()].sort()) m.sample('pgqd_database_unreachable', 1, { database: db });
  const each = (name: string, type: 'counter' | 'gauge', help: string, value: (s: DatabaseStats) => number | null): void => {
    m.family(name, type, help);
    for (const [db, s] of [...databases].sort((a, b) => a[0].localeCompare(b[0]))) {
      const v = value(s);
      if (v !== null) m.sample(name, v, { database: db });
    }
  };
  each('pgqd_up', 'gauge', "1 while the database's ticker, retry and maintenance loops all succeed, 0 while one fails (retried with back-off).", (s) => (s.failing.size === 0 ? 1 : 0));
  each('pgqd_ticks_total', 'counter', 'Ticks made: queues ticked by pgq.ticker(), summed over its runs.', (s) => s.ticks);
  each('pgqd_ticker_runs_total', 'counter', 'Runs of pgq.ticker() (one every ticker_period).', (s) => s.tickerRuns);
  each('pgqd_ticker_duration_seconds_total', 'counter', 'Time spent in pgq.ticker() runs; divided by pgqd_ticker_runs_total: the mean tick duration.', (s) => s.tickerSeconds);
  each('pgqd_last_ticker_run_seconds', 'gauge', 'When pgq.ticker() last ran (seconds since the Unix epoch).', (s) => (s.lastTickerAt === null ? null : s.lastTickerAt / 1000));
  each('pgqd_maint_runs_total', 'counter', 'Maintenance runs (one every maint_period).', (s) => s.maintRuns);
  each('pgqd_maint_operations_total', 'counter', 'Maintenance operations done (rotation steps, VACUUMs, watermark moves).', (s) => s.maintOperations);
  each('pgqd_retry_events_total', 'counter', 'Retry events moved back into their queues.', (s) => s.retriedEvents);
  each('pgqd_errors_total', 'counter', 'Failed runs of the ticker, retry or maintenance loop.', (s) => s.errors);
  return m.toString();
}

export function pgqdStatus(databases: ReadonlyMap<string, DatabaseStats>, reach: PgqdReach = REACHED, now = Date.now()): unknown {
  return {
    program: 'pgqd',
    version: SKYTOOLS_TS_VERSION,
    time: new Date(now).toISOString(),
    discoveryError: reach.discoveryError,
    unreachable: [...reach.unreachable].sort((a, b) => a[0].localeCompare(b[0])).map(([name, error]) => ({ name, error })),
    databases: [...databases]
      .sort((a, b) => a[0].localeCompare(b[0]))
      .map(([name, s]) => ({
        name,
        up: s.failing.size === 0,
        failing: [...s.failing],
        ticks: s.ticks,
        tickerRuns: s.tickerRuns,
        meanTickerMs: s.tickerRuns === 0 ? null : (s.tickerSeconds * 1000) / s.tickerRuns,
        lastTickerAgoSeconds: s.lastTickerAt === null ? null : (now - s.lastTickerAt) / 1000,
        maintRuns: s.maintRuns,
        retriedEvents: s.retriedEvents,
        errors: s.errors,
      })),
  };
}

/** pgqd's page at `/`: the databases served, from /status.json, refreshed every two seconds. */
export const PGQD_STATUS_PAGE = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>pgqd status</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:1.5em}td,th{padding:.15em .7em;text-align:left;border-bottom:1px solid #eee}.down{color:#b91c1c}</style>
</head><body><h1>pgqd</h1><div id="meta">loading /status.json …</div>
<table><thead><tr><th>database</th><th>state</th><th>ticks</th><th>ticker runs</th><th>mean tick</th><th>last tick</th><th>maintenance runs</th><th>retried events</th><th>errors</th></tr></thead><tbody id="dbs"></tbody></table>
<script>
"use strict";
function td(text, cls) { const e = document.createElement("td"); e.textContent = String(text); if (cls) e.className = cls; return e; }
async function refresh() {
  try {
    const st = await (await fetch("status.json", { cache: "no-store" })).json();
    document.getElementById("meta").textContent = st.program + " " + st.version + " · " + st.databases.length + " databases · updated " + new Date(st.time).toLocaleTimeString() +
      (st.discoveryError === null ? "" : " · cannot list databases: " + st.discoveryError);
    const rows = st.databases.map((d) => {
      const tr = document.createElement("tr");
      tr.dataset.database = d.name;
      tr.append(td(d.name), td(d.up ? "ok" : "failing: " + d.failing.join(", "), d.up ? "" : "down"), td(d.ticks), td(d.tickerRuns),
        td(d.meanTickerMs === null ? "–" : d.meanTickerMs.toFixed(1) + " ms"), td(d.lastTickerAgoSeconds === null ? "–" : d.lastTickerAgoSeconds.toFixed(1) + " s ago"),
        td(d.maintRuns), td(d.retriedEvents), td(d.errors));
      return tr;
    });
    for (const u of st.unreachable) {
      const tr = document.createElement("tr");
      tr.dataset.database = u.name;
      const state = td("unreachable: " + u.error, "down");
      state.colSpan = 8;
      tr.append(td(u.name), state);
      rows.push(tr);
    }
    document.getElementById("dbs").replaceChildren(...rows);
  } catch (e) { document.getElementById("meta").textContent = "cannot read status.json: " + e; }
}
refresh(); setInterval(refresh, 2000);
</script></body></html>
`;
