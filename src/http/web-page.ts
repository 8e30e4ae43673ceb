/**
 * The live web view (issue 14): one self-contained page, `GET /` on the coordinator's HTTP
 * listener. Its style and script are inline and its Content-Security-Policy allows exactly
 * those two (by hash) and requests to the coordinator itself, so the browser fetches nothing
 * from anywhere else even if a value from etcd tried to make it. Read-only: no form, and the
 * listener answers GET and HEAD only.
 */
import { createHash } from 'node:crypto';
import { PAGE_SCRIPT } from './web-page-script.js';

const STYLE = `
:root { color-scheme: light; --writer: #1a7f37; --writer-bg: #dafbe1; --down: #cf222e; --down-bg: #ffebe9;
  --quarantine: #9a6700; --quarantine-bg: #fff8c5; --muted: #57606a; --line: #d0d7de; --panel: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, 'DejaVu Sans', sans-serif; color: #1f2328; background: #fff; }
header { display: flex; gap: 16px; align-items: baseline; padding: 10px 20px; border-bottom: 1px solid var(--line);
  background: var(--panel); position: sticky; top: 0; z-index: 1; }
header h1 { font-size: 18px; margin: 0; }
#cluster-name { font-weight: 600; font-size: 16px; }
#freshness { color: var(--muted); margin-left: auto; }
html[data-freshness='live'] #freshness::before { content: '● '; color: var(--writer); }
html[data-freshness='stale'] #freshness::before, html[data-freshness='unreachable'] #freshness::before,
html[data-freshness='failing'] #freshness::before { content: '● '; color: var(--down); }
#banner { margin: 0; padding: 10px 20px; background: var(--down-bg); color: #82071e; border-bottom: 2px solid var(--down);
  font-weight: 600; }
main { padding: 4px 20px 30px; max-width: 1400px; }
h2 { font-size: 15px; margin: 18px 0 8px; color: var(--muted); text-transform: uppercase; letter-spacing: 0.04em; }
dl#facts { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; margin: 0; }
dl#facts dt { color: var(--muted); }
dl#facts dd { margin: 0; }
dl#facts dd.attention { color: var(--quarantine); font-weight: 600; }
#topology { overflow-x: auto; }
#topology svg { display: block; font-size: 12px; }
.colo rect { fill: var(--panel); stroke: var(--line); }
.colo-name { fill: var(--muted); font-weight: 600; }
.server-box { fill: #fff; stroke: #8c959f; stroke-width: 1.5; }
.server-name { font-weight: 700; font-size: 14px; }
.server-role, .server-detail { fill: var(--muted); }
.server-state { font-weight: 600; }
.server-note { fill: var(--quarantine); font-weight: 600; }
.server.writer .server-box { stroke: var(--writer); stroke-width: 3.5; fill: var(--writer-bg); }
.writer-badge rect { fill: var(--writer); }
.writer-badge text { fill: #fff; font-weight: 700; font-size: 11px; }
.server.state-down .server-box { stroke: var(--down); fill: #eaeef2; stroke-dasharray: 2 3; }
.server.state-down text { fill: var(--down); }
.server.state-quarantined .server-box { stroke: var(--quarantine); fill: var(--quarantine-bg); stroke-dasharray: 7 3; }
.server.state-broken-replication .server-box { stroke: var(--down); fill: var(--down-bg); stroke-dasharray: 5 3; }
.server.state-unknown .server-box { stroke-dasharray: 2 2; }
line.replication { stroke-width: 2; }
line.replication.running { stroke: #57606a; }
line.replication.stopped { stroke: var(--down); stroke-dasharray: 5 4; }
path.head-running { fill: #57606a; }
path.head-stopped { fill: var(--down); }
table { border-collapse: collapse; width: 100%; font: 12px/1.35 ui-monospace, 'DejaVu Sans Mono', monospace; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #eaeef2; vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td { white-space: nowrap; }
td:last-child { white-space: normal; }
#servers tr.writer td { background: var(--writer-bg); font-weight: 600; }
#servers tr.state-down td, #servers tr.state-broken-replication td { color: var(--down); }
#servers tr.state-quarantined td { background: var(--quarantine-bg); }
#timeline svg { width: 100%; height: auto; display: block; font-size: 11px; }
.axis { stroke: #8c959f; }
.tick { fill: var(--muted); }
.marker-label { fill: #1f2328; }
.kind-writer-change path, .legend .kind-writer-change { fill: var(--writer); background: var(--writer); }
.kind-fence rect, .legend .kind-fence { fill: var(--down); background: var(--down); }
.kind-skip path, .legend .kind-skip { fill: #bf8700; background: #bf8700; }
.kind-blip circle, .legend .kind-blip { fill: #8250df; background: #8250df; }
.kind-other rect, .legend .kind-other { fill: #8c959f; background: #8c959f; }
.legend { color: var(--muted); font-size: 12px; margin: 4px 0 0; }
.legend span { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 12px; border-radius: 2px; }
#history tr.kind-writer-change td { background: var(--writer-bg); }
#history tr.kind-fence td { background: var(--down-bg); }
#history tr.kind-skip td, #history tr.kind-blip td { background: #fff8c5; }
#history-note { color: var(--muted); font-size: 12px; margin: 0 0 4px; }
`;

const BODY = `
<header>
  <h1>baton</h1>
  <select id="cluster-select" aria-label="cluster" hidden></select>
  <span id="cluster-name"></span>
  <span id="freshness" aria-live="polite">connecting…</span>
</header>
<p id="banner" role="alert" hidden></p>
<main>
  <section aria-labelledby="h-facts"><h2 id="h-facts">Cluster</h2><dl id="facts"></dl></section>
  <section aria-labelledby="h-topology"><h2 id="h-topology">Topology</h2><div id="topology"></div>
    <p class="legend">green: the writer · dashed red: down, broken replication or a stopped channel ·
      amber: quarantined · arrows: replication, source to replica</p></section>
  <section aria-labelledby="h-servers"><h2 id="h-servers">Servers</h2><table id="servers"></table></section>
  <section aria-labelledby="h-timeline"><h2 id="h-timeline">Last hour</h2><div id="timeline"></div>
    <p class="legend"><span class="kind-writer-change"></span>writer change<span class="kind-fence"></span>fence<span
      class="kind-skip"></span>skipped failover<span class="kind-blip"></span>blip (writer kept)<span
      class="kind-other"></span>other</p></section>
  <section aria-labelledby="h-history"><h2 id="h-history">History</h2><p id="history-note"></p>
    <table id="history"></table></section>
</main>
<noscript>This page draws the cluster with JavaScript. The same data, as JSON: /clusters/NAME/overview.</noscript>
`;

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

export const WEB_PAGE_HTML = `<!doctype html>
<html lang="en" data-freshness="loading">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>baton</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;

/**
 * Only this page's own style and script run, it may ask only the coordinator that served it,
 * and nobody may frame it or post a form from it.
 */
export const WEB_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': [
    "default-src 'none'",
    `script-src ${sha256(PAGE_SCRIPT)}`,
    `style-src ${sha256(STYLE)}`,
    "connect-src 'self'",
    // The empty favicon: without it the browser asks for /favicon.ico.
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};
