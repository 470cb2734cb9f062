/**
 * londisted's status page (served at `/` by metrics_listen): one self-contained HTML file whose
 * script reads /status.json every two seconds and draws, per queue, the cascade of the nodes this
 * londisted hosts (each under its provider), with each node's lag, counters and tables (state,
 * copy progress). No build step, no framework; text goes in with textContent only, so a table
 * name can never become markup. Elements carry data-* attributes (node, type, lag, table, state)
 * for scripts and tests.
 */
export const STATUS_PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>londisted status</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
  h1 { font-size: 1.3em; margin: 0 0 .2em; }
  h2 { font-size: 1.1em; margin: 1.2em 0 .3em; }
  #meta { color: #666; }
  ul.tree, ul.tree ul { list-style: none; padding-left: 1.6em; border-left: 1px solid #ccc; margin: .2em 0; }
  ul.tree { border-left: none; padding-left: 0; }
  .head { padding: .25em .4em; background: #f4f6f8; border-radius: 4px; display: inline-block; margin: .2em 0; }
  .name { font-weight: 600; }
  .type { color: #555; margin: 0 .4em; }
  .down .head { background: #fde8e8; }
  .external .head { background: none; border: 1px dashed #bbb; color: #777; }
  .lag.warn { color: #b45309; font-weight: 600; }
  .err { color: #b91c1c; }
  table.tables { border-collapse: collapse; margin: .2em 0 .4em 1em; font-size: .92em; }
  table.tables td { padding: .1em .6em; border-bottom: 1px solid #eee; }
  td.state-ok { color: #15803d; }
  td.state-other { color: #b45309; }
  code { font-size: .95em; }
</style>
</head>
<body>
<h1>londisted</h1>
<div id="meta">loading /status.json …</div>
<div id="queues"></div>
<script>
"use strict";
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function lagText(s) {
  if (s === null || s === undefined) return "–";
  if (s < 60) return s.toFixed(2) + " s";
  if (s < 3600) return (s / 60).toFixed(1) + " min";
  return (s / 3600).toFixed(1) + " h";
}
function bytesText(b) {
  if (b < 1048576) return (b / 1024).toFixed(1) + " kB";
  return (b / 1048576).toFixed(1) + " MB";
}
function tablesOf(job) {
  const t = el("table", "tables");
  for (const tb of job.tables) {
    const tr = el("tr");
    tr.dataset.table = tb.name;
    tr.dataset.state = tb.state;
    tr.appendChild(el("td", "", tb.name));
    tr.appendChild(el("td", "", tb.dest === tb.name ? "" : "→ " + tb.dest));
    tr.appendChild(el("td", tb.state === "ok" ? "state-ok" : "state-other", tb.state));
    const copy = tb.copy ? tb.copy.rows + " rows, " + bytesText(tb.copy.bytes) + " in " + tb.copy.seconds.toFixed(0) + " s (" + Math.round(tb.copy.rows / Math.max(tb.copy.seconds, 0.001)) + " rows/s)" : "";
    const td = el("td", "copy", copy);
    if (tb.copy) { td.dataset.rows = String(tb.copy.rows); td.dataset.bytes = String(tb.copy.bytes); }
    tr.appendChild(td);
    t.appendChild(tr);
  }
  return t;
}
function nodeItem(job, children) {
  const li = el("li", "node" + (job.up ? "" : " down"));
  li.dataset.node = job.node;
  li.dataset.type = job.type || "";
  li.dataset.job = job.job;
  const head = el("div", "head");
  head.appendChild(el("span", "name", job.node));
  head.appendChild(el("span", "type", job.type + (job.paused ? ", paused" : "") + (job.up ? "" : ", not running")));
  head.appendChild(document.createTextNode("job "));
  head.appendChild(el("code", "", job.job));
  if (job.type === "root") {
    head.appendChild(document.createTextNode(" · source of the queue"));
  } else {
    head.appendChild(document.createTextNode(" · lag "));
    const lag = el("span", "lag" + (job.lagSeconds !== null && job.lagSeconds > 10 ? " warn" : ""), lagText(job.lagSeconds));
    lag.dataset.lag = job.lagSeconds === null ? "" : String(job.lagSeconds);
    head.appendChild(lag);
    head.appendChild(document.createTextNode(" · tick " + (job.lastTickId || "–") + " · " + job.batches + " batches · " + job.events + " events"));
  }
  if (job.errors > 0) head.appendChild(el("span", "err", " · " + job.errors + " errors"));
  li.appendChild(head);
  if (job.lastError && !job.up) li.appendChild(el("div", "err", job.lastError));
  if (job.tables.length > 0) li.appendChild(tablesOf(job));
  if (children.length > 0) {
    const ul = el("ul");
    for (const c of children) ul.appendChild(c);
    li.appendChild(ul);
  }
  return li;
}
function externalItem(name, children) {
  const li = el("li", "node external");
  li.dataset.node = name;
  li.dataset.type = "external";
  const head = el("div", "head");
  head.appendChild(el("span", "name", name));
  head.appendChild(el("span", "type", "not hosted by this londisted"));
  li.appendChild(head);
  const ul = el("ul");
  for (const c of children) ul.appendChild(c);
  li.appendChild(ul);
  return li;
}
function render(st) {
  document.getElementById("meta").textContent = st.program + " " + st.version + " · " + st.jobs.length + " jobs · updated " + new Date(st.time).toLocaleTimeString();
  const box = document.getElementById("queues");
  const out = document.createDocumentFragment();
  const queues = new Map();
  const unknown = [];
  for (const j of st.jobs) {
    if (j.queue === null || j.node === null) { unknown.push(j); continue; }
    if (!queues.has(j.queue)) queues.set(j.queue, []);
    queues.get(j.queue).push(j);
  }
  for (const [queue, jobs] of [...queues].sort((a, b) => a[0].localeCompare(b[0]))) {
    const section = el("section", "queue");
    section.dataset.queue = queue;
    section.appendChild(el("h2", "", "queue " + queue));
    const byNode = new Map(jobs.map((j) => [j.node, j]));
    const build = (job, seen) => {
      seen.add(job.node);
      const kids = jobs.filter((c) => c.provider === job.node && !seen.has(c.node)).sort((a, b) => a.node.localeCompare(b.node));
      return nodeItem(job, kids.map((c) => build(c, seen)));
    };
    const tree = el("ul", "tree");
    const seen = new Set();
    const tops = jobs.filter((j) => j.provider === null || j.provider === j.node || !byNode.has(j.provider));
    const external = new Map();
    for (const j of tops.sort((a, b) => a.node.localeCompare(b.node))) {
      if (j.provider === null || j.provider === j.node) tree.appendChild(build(j, seen));
      else {
        if (!external.has(j.provider)) external.set(j.provider, []);
        external.get(j.provider).push(build(j, seen));
      }
    }
    for (const [name, items] of external) tree.appendChild(externalItem(name, items));
    for (const j of jobs) if (!seen.has(j.node)) tree.appendChild(build(j, seen));
    section.appendChild(tree);
    out.appendChild(section);
  }
  if (unknown.length > 0) {
    const section = el("section", "queue");
    section.appendChild(el("h2", "", "jobs not running yet"));
    const ul = el("ul", "tree");
    for (const j of unknown) {
      const li = el("li", "node down");
      li.dataset.job = j.job;
      li.appendChild(el("span", "name", j.job));
      if (j.standby) li.appendChild(el("span", "type", "standby: another process runs this job"));
      if (j.lastError) li.appendChild(el("div", "err", j.lastError));
      ul.appendChild(li);
    }
    section.appendChild(ul);
    out.appendChild(section);
  }
  box.replaceChildren(out);
}
async function refresh() {
  try {
    const r = await fetch("status.json", { cache: "no-store" });
    render(await r.json());
  } catch (e) {
    document.getElementById("meta").textContent = "cannot read status.json: " + e;
  }
}
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
`;
