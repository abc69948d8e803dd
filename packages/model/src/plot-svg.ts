// A small SVG line-plot writer for training curves (no dependencies).

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceTicks(lo: number, hi: number, n: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) out.push(+v.toPrecision(12));
  return out;
}

/** A line plot of several series sharing axes; returns the SVG text. */
export function linePlotSvg(
  series: Series[],
  opts: { title: string; xLabel: string; yLabel: string; width?: number; height?: number },
): string {
  const W = opts.width ?? 720;
  const H = opts.height ?? 420;
  const m = { l: 64, r: 16, t: 36, b: 48 };
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const x0 = pts.length ? Math.min(...pts.map((p) => p[0])) : 0;
  let x1 = pts.length ? Math.max(...pts.map((p) => p[0])) : 1;
  let [y0, y1] = pts.length ? [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))] : [0, 1];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(opts.title)}</text>`,
  ];
  for (const t of niceTicks(x0, x1, 6)) {
    out.push(`<line x1="${sx(t)}" y1="${m.t}" x2="${sx(t)}" y2="${H - m.b}" stroke="#eee"/>`);
    out.push(`<text x="${sx(t)}" y="${H - m.b + 16}" text-anchor="middle">${t}</text>`);
  }
  for (const t of niceTicks(y0, y1, 6)) {
    out.push(`<line x1="${m.l}" y1="${sy(t)}" x2="${W - m.r}" y2="${sy(t)}" stroke="#eee"/>`);
    out.push(`<text x="${m.l - 6}" y="${sy(t) + 4}" text-anchor="end">${t}</text>`);
  }
  out.push(
    `<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#333"/>`,
  );
  out.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 10}" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  out.push(
    `<text x="14" y="${(m.t + H - m.b) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(m.t + H - m.b) / 2})">${esc(opts.yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const p = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (p.length) {
      const d = p.map(([x, y], j) => `${j ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`);
      if (p.length < 40)
        for (const [x, y] of p) out.push(`<circle cx="${sx(x)}" cy="${sy(y)}" r="2.5" fill="${s.color}"/>`);
    }
    out.push(`<rect x="${W - m.r - 150}" y="${m.t + 8 + i * 18}" width="12" height="3" fill="${s.color}"/>`);
    out.push(`<text x="${W - m.r - 132}" y="${m.t + 13 + i * 18}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
