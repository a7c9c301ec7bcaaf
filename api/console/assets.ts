// What the console's pages load: htmx and its server-sent-events extension straight from their npm packages
// (pinned in package-lock.json, served by the API: nothing comes from a CDN), and the console's stylesheet,
// kept here as a string so the compiled API (dist/) carries it without a copy step.
import { createHash } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** Files of npm packages the pages load, by the name they are served under. */
export const PACKAGE_ASSETS: Record<string, string> = {
  'htmx.min.js': require.resolve('htmx.org/dist/htmx.min.js'),
  'htmx-ext-sse.min.js': require.resolve('htmx-ext-sse/dist/sse.min.js'),
  // The analytics' charts; chart.js exports no path to its browser build, which sits beside its main file.
  'chart.umd.min.js': join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'),
};

export const assetDirectory = (name: string) => {
  const path = PACKAGE_ASSETS[name];
  return path ? { root: dirname(path), file: basename(path) } : undefined;
};

// Colours checked for WCAG AA contrast (4.5:1 for text) against their backgrounds.
export const STYLESHEET = `
:root { color-scheme: light; --ink: #1b1b1b; --muted: #4a4a4a; --line: #c8c8c8; --accent: #0b57a4;
  --ok: #0f6b2f; --warn: #8a4b00; --bad: #a0161b; --paper: #ffffff; --shade: #f3f5f7; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC",
  "WenQuanYi Micro Hei", sans-serif;
  color: var(--ink); background: var(--paper); }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible,
summary:focus-visible { outline: 3px solid #f2a900; outline-offset: 2px; }
.skip { position: absolute; left: -10000px; top: 0; background: var(--paper); padding: .5rem 1rem; }
.skip:focus { left: 1rem; z-index: 10; }
header.top { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; justify-content: space-between;
  padding: .75rem 1.5rem; background: #102a43; color: #fff; }
header.top a { color: #fff; }
header.top .brand { font-weight: 700; font-size: 1.1rem; color: #fff; text-decoration: none; }
header.top nav ul { display: flex; gap: 1.25rem; list-style: none; margin: 0; padding: 0; }
header.top .who { display: flex; gap: .75rem; align-items: center; flex-wrap: wrap; }
header.top button { background: transparent; color: #fff; border: 1px solid #fff; border-radius: 4px;
  padding: .2rem .6rem; font: inherit; cursor: pointer; }
.languages { display: flex; gap: .5rem; }
.languages [aria-current] { font-weight: 700; text-decoration: none; }
main { max-width: 72rem; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 1rem; }
h2 { font-size: 1.25rem; margin: 1.75rem 0 .75rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { border-bottom: 1px solid var(--line); padding: .4rem .5rem; text-align: left; vertical-align: top; }
th { background: var(--shade); }
td.number, th.number { text-align: right; }
form.search { display: grid; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); gap: .75rem 1rem;
  align-items: end; }
label { display: block; font-weight: 600; margin-bottom: .2rem; }
input, select, textarea { font: inherit; padding: .35rem .5rem; border: 1px solid #767676; border-radius: 4px;
  width: 100%; background: #fff; color: var(--ink); }
input[type=checkbox], input[type=radio] { width: auto; }
fieldset { border: 1px solid var(--line); border-radius: 6px; margin: 0 0 1rem; padding: .75rem 1rem; }
legend { font-weight: 700; padding: 0 .25rem; }
.choice { display: flex; gap: .5rem; align-items: center; font-weight: 400; margin: .25rem 0; }
.choice label { display: inline; font-weight: 400; margin: 0; }
.line-choice { display: grid; grid-template-columns: minmax(12rem, 1fr) 14rem; gap: .5rem 1rem;
  align-items: center; margin-bottom: .5rem; }
button.primary, button.secondary { font: inherit; padding: .5rem 1.1rem; border-radius: 4px; cursor: pointer;
  border: 2px solid var(--accent); }
button.primary { background: var(--accent); color: #fff; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { border-color: var(--bad); background: var(--bad); color: #fff; }
button[disabled] { opacity: 1; background: #d0d0d0; border-color: #767676; color: #1b1b1b; cursor: not-allowed; }
.notice { border-left: 4px solid var(--accent); background: var(--shade); padding: .6rem 1rem; margin: 1rem 0; }
.notice.error { border-color: var(--bad); }
.notice.ok { border-color: var(--ok); }
.badge { display: inline-block; padding: .1rem .55rem; border-radius: 999px; border: 1px solid currentColor;
  font-size: .9rem; font-weight: 600; }
.badge.ended-completed, .badge.risk-low { color: var(--ok); }
.badge.risk-medium, .badge.running { color: var(--warn); }
.badge.ended-rejected, .badge.ended-refused, .badge.ended-withdrawn, .badge.risk-high { color: var(--bad); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1.25rem; margin: 0 0 1rem; }
dl.facts dt { font-weight: 600; color: var(--muted); }
dl.facts dd { margin: 0; }
.muted { color: var(--muted); }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr)); gap: 0 2rem; }
.inbox-item { border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; margin-bottom: 1rem; }
.inbox-item h2 { margin-top: 0; }
.actions { display: flex; gap: .75rem; flex-wrap: wrap; align-items: center; margin-top: .5rem; }
.actions form { margin: 0; }
ol.timeline { padding-left: 1.25rem; }
ol.timeline li { margin-bottom: .3rem; }
.count:not(:empty) { display: inline-block; min-width: 1.5em; padding: 0 .4em; border-radius: 999px;
  background: #f2a900; color: #1b1b1b; font-weight: 700; text-align: center; }
.badge.overdue { color: var(--bad); }
.inbox-item.late { border-left: 4px solid var(--bad); }
.message.unread { border-left: 4px solid var(--accent); }
.message-body { white-space: pre-line; }
form.action { margin-top: .75rem; }
blockquote { margin: .5rem 0; padding-left: 1rem; border-left: 3px solid var(--line); }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap; }
.chart { position: relative; height: 18rem; margin: .5rem 0; }
section.figure { border-top: 1px solid var(--line); margin-top: 2rem; }
figure.statechart { margin: .5rem 0 1rem; overflow-x: auto; }
figure.statechart svg { max-width: 100%; height: auto; font: 13px system-ui, "PingFang SC", "Microsoft YaHei",
  "Noto Sans CJK SC", sans-serif; }
.statechart .state rect { fill: #fff; stroke: #767676; stroke-width: 1; }
.statechart .state text { fill: var(--ink); }
.statechart .state.final rect { stroke-width: 3; }
.statechart .state.visited rect { fill: #dbe9f7; stroke: var(--accent); }
.statechart .state.current rect { fill: var(--accent); stroke: #102a43; stroke-width: 3; }
.statechart .state.current text { fill: #fff; font-weight: 700; }
.statechart .move { fill: none; stroke: #9a9a9a; stroke-width: 1; }
.statechart .move.taken { stroke: var(--accent); stroke-width: 3; }
.statechart .arrowhead { fill: #9a9a9a; }
.statechart .arrowhead.taken { fill: var(--accent); }
`;

export const STYLESHEET_ETAG = `"${createHash('sha256').update(STYLESHEET).digest('hex').slice(0, 16)}"`;
