// Two hand-written SVG charts, enough for the status page: a donut for
// shares (actions) and a line chart for time series (throughput).  Each
// chart also carries its numbers as text (legend, <title> elements and an
// aria-label), so it is readable without seeing the picture.

import {h, s, clear, fmtInt} from './dom.js';

function swatch(color) {
  return s('svg', {viewBox: '0 0 12 12', 'aria-hidden': 'true'},
    s('rect', {width: 12, height: 12, rx: 2, fill: color}));
}

// items: [{label, value, color, key}]
export function donut(container, items, {title = 'Chart'} = {}) {
  clear(container);
  const total = items.reduce((a, it) => a + (it.value > 0 ? it.value : 0), 0);
  const R = 50, r = 30, C = 60;
  const svg = s('svg', {viewBox: '0 0 120 120', role: 'img',
    'aria-label': `${title}: ` + (total ? items.map((it) => `${it.label} ${it.value}`).join(', ') : 'no messages yet')});
  if (total === 0) {
    svg.append(s('circle', {cx: C, cy: C, r: (R + r) / 2, fill: 'none', stroke: '#9aa19c',
      'stroke-width': R - r, 'stroke-opacity': 0.3}));
    svg.append(s('text', {x: C, y: C + 4, 'text-anchor': 'middle'}, 'no data'));
  } else {
    let angle = -Math.PI / 2;
    for (const it of items) {
      if (!(it.value > 0)) continue;
      const frac = it.value / total;
      const title = s('title', {}, `${it.label}: ${fmtInt(it.value)} (${(frac * 100).toFixed(1)} %)`);
      if (frac >= 0.9999) {
        svg.append(s('circle', {cx: C, cy: C, r: (R + r) / 2, fill: 'none', stroke: it.color,
          'stroke-width': R - r}, title));
        break;
      }
      const a2 = angle + frac * 2 * Math.PI;
      svg.append(s('path', {d: arc(C, R, r, angle, a2), fill: it.color,
        dataset: {key: it.key || it.label}}, title));
      angle = a2;
    }
    svg.append(s('text', {x: C, y: C + 4, 'text-anchor': 'middle', class: 'total'}, fmtInt(total)));
  }
  const legend = h('ul', {class: 'legend'}, items.map((it) =>
    h('li', {dataset: {testid: 'legend-item', key: it.key || it.label}}, swatch(it.color),
      `${it.label}: `, h('strong', {}, fmtInt(it.value)),
      total ? h('span', {class: 'muted'}, ` (${((it.value / total) * 100).toFixed(1)} %)`) : null)));
  container.append(h('div', {class: 'donut-wrap'}, svg, legend));
}

function arc(c, R, r, a1, a2) {
  const large = a2 - a1 > Math.PI ? 1 : 0;
  const p = (rad, a) => `${(c + rad * Math.cos(a)).toFixed(3)} ${(c + rad * Math.sin(a)).toFixed(3)}`;
  return `M ${p(R, a1)} A ${R} ${R} 0 ${large} 1 ${p(R, a2)} L ${p(r, a2)} ` +
         `A ${r} ${r} 0 ${large} 0 ${p(r, a1)} Z`;
}

// "Nice" tick step for a range: 1, 2 or 5 times a power of ten.
function niceStep(range, count) {
  const raw = range / Math.max(count, 1);
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

function timeLabel(ts, span) {
  const t = new Date(ts * 1000);
  const pad = (v) => String(v).padStart(2, '0');
  if (span <= 2 * 86400) return `${pad(t.getHours())}:${pad(t.getMinutes())}`;
  if (span <= 40 * 86400) return `${pad(t.getMonth() + 1)}-${pad(t.getDate())} ${pad(t.getHours())}h`;
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}`;
}

// series: [{label, color, points: [{x: unix, y: number|null}]}]; gaps
// (null) break the line.
export function lineChart(container, series, {title = 'Chart', unit = ''} = {}) {
  clear(container);
  const W = 720, H = 240, L = 44, Rm = 12, T = 10, B = 26;
  const pts = series.flatMap((se) => se.points.filter((p) => typeof p.y === 'number'));
  const xs = series.flatMap((se) => se.points.map((p) => p.x)).filter((x) => typeof x === 'number');
  if (xs.length === 0) {
    container.append(h('p', {class: 'muted', dataset: {testid: 'chart-empty'}}, 'No data for this period yet.'));
    return;
  }
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  const ymax = Math.max(0, ...pts.map((p) => p.y));
  const step = niceStep(ymax > 0 ? ymax : 1, 4);
  const ytop = Math.max(step, Math.ceil((ymax > 0 ? ymax : 1) / step) * step);
  const X = (x) => L + (x1 > x0 ? ((x - x0) / (x1 - x0)) * (W - L - Rm) : (W - L - Rm) / 2);
  const Y = (y) => T + (1 - y / ytop) * (H - T - B);
  const total = series.map((se) => `${se.label} peak ` +
    Math.max(0, ...se.points.map((p) => (typeof p.y === 'number' ? p.y : 0))).toFixed(2)).join(', ');
  const svg = s('svg', {viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${title}: ${total}`});

  const axis = s('g', {class: 'axis'});
  for (let v = 0; v <= ytop + step / 2; v += step) {
    axis.append(s('line', {class: 'grid', x1: L, x2: W - Rm, y1: Y(v), y2: Y(v)}));
    axis.append(s('text', {x: L - 6, y: Y(v) + 4, 'text-anchor': 'end'},
      Number.isInteger(step) ? String(v) : v.toFixed(2)));
  }
  const nx = 6;
  for (let i = 0; i <= nx; i++) {
    const x = x0 + ((x1 - x0) * i) / nx;
    axis.append(s('text', {x: X(x), y: H - 8, 'text-anchor': i === 0 ? 'start' : i === nx ? 'end' : 'middle'},
      timeLabel(x, x1 - x0)));
  }
  axis.append(s('line', {x1: L, x2: W - Rm, y1: Y(0), y2: Y(0)}));
  svg.append(axis);

  const valid = (p) => p && typeof p.y === 'number' && typeof p.x === 'number';
  for (const se of series) {
    let d = '';
    const g = s('g', {dataset: {series: se.label}}, s('title', {}, se.label));
    se.points.forEach((p, i) => {
      if (!valid(p)) return;
      const joined = valid(se.points[i - 1]);
      d += `${joined ? 'L' : 'M'}${X(p.x).toFixed(1)} ${Y(p.y).toFixed(1)} `;
      // A point with no neighbour would draw nothing as a line: a dot.
      if (!joined && !valid(se.points[i + 1])) {
        g.append(s('circle', {cx: X(p.x).toFixed(1), cy: Y(p.y).toFixed(1), r: 3, fill: se.color}));
      }
    });
    if (d) {
      g.append(s('path', {d, fill: 'none', stroke: se.color, 'stroke-width': 1.8,
        'stroke-linejoin': 'round'}));
    }
    svg.append(g);
  }
  const legend = h('ul', {class: 'legend'}, series.map((se) =>
    h('li', {}, swatch(se.color), se.label)));
  container.append(svg, legend);
  if (unit) container.append(h('p', {class: 'muted'}, unit));
}
