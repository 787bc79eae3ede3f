/**
 * The live mesh page: one self-contained HTML document (no external assets) that polls
 * /dashboard/state every second and renders members, workers, routing and request rate.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Drover mesh</title>
<style>
  :root { --bg:#0f1419; --panel:#171d24; --text:#d8dee6; --muted:#8a96a3; --ok:#3fb950; --warn:#d29922; --bad:#f85149; --accent:#58a6ff; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.4 system-ui, -apple-system, Segoe UI, sans-serif; background:var(--bg); color:var(--text); }
  header { padding:14px 20px; border-bottom:1px solid #263040; display:flex; gap:16px; align-items:baseline; }
  header h1 { margin:0; font-size:18px; }
  header .meta { color:var(--muted); }
  main { display:grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap:16px; padding:16px 20px; }
  section { background:var(--panel); border-radius:8px; padding:12px 14px; }
  section h2 { margin:0 0 8px; font-size:13px; text-transform:uppercase; letter-spacing:.05em; color:var(--muted); }
  table { width:100%; border-collapse:collapse; }
  th, td { text-align:left; padding:4px 6px; border-bottom:1px solid #222b36; font-variant-numeric: tabular-nums; }
  th { color:var(--muted); font-weight:500; }
  .state { font-weight:600; }
  .alive, .ready, .closed { color:var(--ok); }
  .suspect, .not_ready, .half_open, .pending, .draining { color:var(--warn); }
  .dead, .failed, .open, .left { color:var(--bad); }
  .big { font-size:28px; font-weight:600; }
  .muted { color:var(--muted); }
  #error { color:var(--bad); padding:0 20px; }
</style>
</head>
<body>
<header><h1>Drover mesh</h1><span class="meta" id="node">connecting…</span><span class="meta" id="updated"></span></header>
<div id="error"></div>
<main>
  <section><h2>Members</h2><table id="members"><thead><tr><th>node</th><th>state</th><th>incarnation</th><th>address</th><th>sync lag</th><th>last contact</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Workers</h2><table id="workers"><thead><tr><th>worker</th><th>kind</th><th>role</th><th>url</th><th>health</th><th>circuit</th><th>in flight</th><th>mesh load</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Routing</h2><table id="routing"><thead><tr><th>model</th><th>policy</th><th>tree nodes</th><th>tree tokens</th><th>hit ratio</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Traffic</h2><div><span class="big" id="rps">0</span> <span class="muted">req/s</span></div><div class="muted" id="totals"></div></section>
</main>
<script>
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
const cell = (v, cls) => '<td' + (cls ? ' class="state ' + esc(cls) + '"' : '') + '>' + esc(v) + '</td>';
function fill(id, rows) { document.querySelector('#' + id + ' tbody').innerHTML = rows.join('') || '<tr><td colspan="6" class="muted">none</td></tr>'; }
let last;
async function tick() {
  try {
    const res = await fetch('/dashboard/state', { cache: 'no-store' });
    const s = await res.json();
    document.getElementById('error').textContent = '';
    document.getElementById('node').textContent = s.node + (s.mesh ? ' · mesh of ' + s.members.filter(m => m.state === 'alive').length + ' alive' : ' · mesh off');
    document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
    fill('members', s.members.map(m => '<tr data-member="' + esc(m.name) + '">' + cell(m.name) + cell(m.state, m.state) + cell(m.incarnation) + cell(m.address) + cell(m.syncLag ?? '—') + cell(m.lastContactMs == null ? '—' : Math.round(m.lastContactMs) + ' ms ago') + '</tr>'));
    fill('workers', s.workers.map(w => '<tr>' + cell(w.id) + cell(w.kind) + cell(w.role) + cell(w.url) + cell(w.health, w.health) + cell(w.circuit, w.circuit) + cell(w.in_flight) + cell(w.mesh_in_flight ?? '—') + '</tr>'));
    fill('routing', s.routing.map(r => '<tr>' + cell(r.model) + cell(r.policy) + cell(r.treeNodes) + cell(r.treeTokens) + cell(r.hitRatio == null ? '—' : (r.hitRatio * 100).toFixed(1) + '%') + '</tr>'));
    const now = performance.now();
    if (last) document.getElementById('rps').textContent = ((s.requestsTotal - last.total) / ((now - last.at) / 1000)).toFixed(1);
    last = { total: s.requestsTotal, at: now };
    document.getElementById('totals').textContent = s.requestsTotal + ' requests served by this node, ' + s.inFlight + ' in flight';
  } catch (err) {
    document.getElementById('error').textContent = 'cannot reach this node: ' + err;
  }
}
tick();
setInterval(tick, 1000);
</script>
</body>
</html>`;
