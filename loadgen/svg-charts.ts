/** Inline SVG charts (no scripts, no external assets) for the self-contained HTML report. */
const W = 600;
const H = 240;
const LEFT = 56;
const RIGHT = 16;
const TOP = 28;
const BOTTOM = 36;

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
  /** Draw as a step function (a CDF) rather than straight segments. */
  step?: boolean;
}

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const label = (v: number) => (Math.abs(v) >= 1000 ? v.toFixed(0) : String(+v.toPrecision(3)));

/** Axes with four gridlines each way, so values can be read off the chart. */
function axes(maxX: number, maxY: number, xLabel: string, yLabel: string): string {
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const y = H - BOTTOM - (i / 4) * (H - TOP - BOTTOM);
    const x = LEFT + (i / 4) * (W - LEFT - RIGHT);
    parts.push(`<line x1="${LEFT}" y1="${y}" x2="${W - RIGHT}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${LEFT - 4}" y="${y + 3}" font-size="10" text-anchor="end" fill="#555">${label((i / 4) * maxY)}</text>`);
    parts.push(`<text x="${x}" y="${H - BOTTOM + 13}" font-size="10" text-anchor="middle" fill="#555">${label((i / 4) * maxX)}</text>`);
  }
  parts.push(`<line x1="${LEFT}" y1="${H - BOTTOM}" x2="${W - RIGHT}" y2="${H - BOTTOM}" stroke="#888"/><line x1="${LEFT}" y1="${TOP}" x2="${LEFT}" y2="${H - BOTTOM}" stroke="#888"/>`);
  parts.push(`<text x="${(LEFT + W - RIGHT) / 2}" y="${H - 6}" font-size="11" text-anchor="middle" fill="#333">${esc(xLabel)}</text>`);
  parts.push(`<text x="12" y="${(TOP + H - BOTTOM) / 2}" font-size="11" fill="#333" transform="rotate(-90 12 ${(TOP + H - BOTTOM) / 2})" text-anchor="middle">${esc(yLabel)}</text>`);
  return parts.join('');
}

function frame(id: string, title: string, body: string): string {
  return `<figure id="${esc(id)}"><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">${body}</svg></figure>`;
}

export function lineChart(id: string, title: string, series: Series[], xLabel: string, yLabel: string): string {
  const all = series.flatMap((s) => s.points);
  const maxX = Math.max(1e-9, ...all.map((p) => p[0]));
  const maxY = Math.max(1e-9, ...all.map((p) => p[1]));
  const x = (v: number) => (LEFT + (v / maxX) * (W - LEFT - RIGHT)).toFixed(1);
  const y = (v: number) => (H - BOTTOM - (v / maxY) * (H - TOP - BOTTOM)).toFixed(1);
  const lines = series
    .filter((s) => s.points.length > 0)
    .map((s) => {
      const pts: string[] = [];
      s.points.forEach(([a, b], i) => {
        if (s.step && i > 0) pts.push(`${x(a)},${y(s.points[i - 1][1])}`);
        pts.push(`${x(a)},${y(b)}`);
      });
      return `<polyline class="series" data-series="${esc(s.name)}" fill="none" stroke="${s.color}" stroke-width="2" points="${pts.join(' ')}"/>`;
    })
    .join('');
  const legend = series.map((s, i) => `<text x="${LEFT + i * 100}" y="14" fill="${s.color}" font-size="11">■ ${esc(s.name)}</text>`).join('');
  const empty = all.length === 0 ? `<text x="${W / 2}" y="${H / 2}" text-anchor="middle" fill="#888">no data</text>` : '';
  return frame(id, title, axes(maxX, maxY, xLabel, yLabel) + legend + lines + empty);
}

export function barChart(id: string, title: string, bars: [string, number][], color: string): string {
  const max = Math.max(1, ...bars.map((b) => b[1]));
  const slot = bars.length ? (W - LEFT - RIGHT) / bars.length : 0;
  const rects = bars
    .map(([name, v], i) => {
      const h = (v / max) * (H - TOP - BOTTOM);
      const cx = LEFT + i * slot + slot / 2;
      return `<rect class="bar" data-kind="${esc(name)}" x="${LEFT + i * slot + 6}" y="${H - BOTTOM - h}" width="${Math.max(1, slot - 12)}" height="${h}" fill="${color}"/><text x="${cx}" y="${H - BOTTOM + 13}" font-size="10" text-anchor="middle">${esc(name)}</text><text x="${cx}" y="${H - BOTTOM - h - 4}" font-size="10" text-anchor="middle">${v}</text>`;
    })
    .join('');
  const body = `<line x1="${LEFT}" y1="${H - BOTTOM}" x2="${W - RIGHT}" y2="${H - BOTTOM}" stroke="#888"/>${rects || `<text x="${W / 2}" y="${H / 2}" text-anchor="middle" fill="#2a7">no errors</text>`}`;
  return frame(id, title, body);
}
