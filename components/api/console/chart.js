// The status page's chart of the last runs: synced users (a line) and the
// changes each run made (stacked bars: created, updated, left the scope).
// Inline SVG drawn here from the history API: no chart library, works offline.

import { h, plural, toDate } from './ui.js';

const SVG = 'http://www.w3.org/2000/svg';
/** Runs drawn, newest last. */
const MAX_RUNS = 20;
const WIDTH = 640;
const HEIGHT = 180;
const PAD = { top: 12, right: 12, bottom: 22, left: 12 };
/** The stacked changes, bottom up: count, label, CSS class. */
const CHANGES = [
  ['users_created', 'created', 'created'],
  ['users_updated', 'updated', 'updated'],
  ['users_left_scope', 'left the scope', 'left'],
];

/** An SVG element (`h` builds HTML ones). */
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs ?? {})) el.setAttribute(key, String(value));
  el.append(...children);
  return el;
}

/** Synced users after a run: every synced account was created, updated or left unchanged by it. */
const syncedAfter = (counts = {}) => (counts.users_created ?? 0) + (counts.users_updated ?? 0) + (counts.users_unchanged ?? 0);

const changeCount = (counts = {}, key) => counts[key] ?? 0;

/** "Run 3: 37 synced users; 2 created, 1 updated, 0 left the scope" (the bar's tooltip and text alternative). */
function describe(run) {
  const date = toDate(run.started_at);
  const when = date ? ` (${date.toLocaleString()})` : '';
  if (run.result !== 'completed') return `Run ${run.run_id}${when}: ${run.result}, nothing changed`;
  const changes = CHANGES.map(([key, label]) => `${changeCount(run.counts, key).toLocaleString()} ${label}`).join(', ');
  return `Run ${run.run_id}${when}: ${plural(syncedAfter(run.counts), 'synced user')}; ${changes}`;
}

/**
 * The chart for `runs` (the history, newest first), or a note when there
 * is no run yet. One `g.run` per run, holding its bars and its point.
 */
export function runChart(runs) {
  const shown = runs.slice(0, MAX_RUNS).reverse();
  if (!shown.length) return h('p', { class: 'hint' }, 'The chart appears after the first sync.');
  const completed = (run) => run.result === 'completed';
  const maxSynced = Math.max(1, ...shown.filter(completed).map((r) => syncedAfter(r.counts)));
  const maxChanges = Math.max(1, ...shown.filter(completed).map((r) => CHANGES.reduce((n, [key]) => n + changeCount(r.counts, key), 0)));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const step = plotW / shown.length;
  const barW = Math.max(2, Math.min(28, step * 0.6));
  const bottom = PAD.top + plotH;
  const points = [];
  const groups = shown.map((run, i) => {
    const x = PAD.left + step * (i + 0.5);
    const g = s('g', { class: `run${completed(run) ? '' : ' failed'}`, 'data-run-id': run.run_id }, s('title', null, describe(run)));
    if (completed(run)) {
      let y = bottom;
      for (const [key, , cls] of CHANGES) {
        const height = (changeCount(run.counts, key) / maxChanges) * plotH * 0.45;
        if (height > 0) {
          y -= height;
          g.append(s('rect', { class: `bar ${cls}`, x: x - barW / 2, y, width: barW, height }));
        }
      }
      const py = bottom - (syncedAfter(run.counts) / maxSynced) * plotH;
      points.push(`${x},${py}`);
      g.append(s('circle', { class: 'point', cx: x, cy: py, r: 3.5 }));
    } else {
      g.append(s('text', { class: 'failed-mark', x, y: bottom - 4, 'text-anchor': 'middle' }, '×'));
    }
    g.append(s('text', { class: 'axis-label', x, y: HEIGHT - 6, 'text-anchor': 'middle' }, String(run.run_id)));
    return g;
  });
  const svg = s(
    'svg',
    { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-labelledby': 'run-chart-title', class: 'chart', preserveAspectRatio: 'xMidYMid meet' },
    s('title', { id: 'run-chart-title' }, `Synced users and changes over the last ${plural(shown.length, 'run')}`),
    s('line', { class: 'baseline', x1: PAD.left, x2: WIDTH - PAD.right, y1: bottom, y2: bottom }),
    ...groups,
    s('polyline', { class: 'synced-line', points: points.join(' ') }),
  );
  const legend = h(
    'ul',
    { class: 'chart-legend' },
    h('li', null, h('span', { class: 'swatch synced' }), `Synced users (up to ${maxSynced.toLocaleString()})`),
    CHANGES.map(([, label, cls]) => h('li', null, h('span', { class: `swatch ${cls}` }), `Users ${label}`)),
  );
  return h('figure', { class: 'run-chart-figure' }, svg, h('figcaption', null, legend, h('span', { class: 'hint' }, 'Runs by number, oldest on the left; a cross marks a run that did not complete.')));
}
