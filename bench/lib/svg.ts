/**
 * A small line-chart renderer that writes SVG text directly: no browser, no dependency. Enough
 * for "figure against load": a categorical x axis (the load steps), linear or log y axis, a few
 * series per panel, panels side by side.
 */

export interface Series {
  name: string;
  color: string;
  dashed?: boolean;
  /** One y per x value of the panel; null or NaN leaves a gap. */
  values: (number | null)[];
}

/** A horizontal reference line, e.g. a target. */
export interface Guide {
  y: number;
  label: string;
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  xValues: number[];
  logY?: boolean;
  series: Series[];
  guides?: Guide[];
}

const PANEL_W = 540;
const PANEL_H = 360;
const MARGIN = { left: 64, right: 16, top: 36, bottom: 110 };
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function formatTick(value: number): string {
  if (value === 0) return '0';
  if (Math.abs(value) >= 1000) return `${value / 1000}k`;
  if (Math.abs(value) >= 1) return String(Math.round(value * 100) / 100);
  return String(Number(value.toPrecision(2)));
}

function linearTicks(max: number): number[] {
  const top = max > 0 ? max : 1;
  const rough = top / 5;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => top / s <= 6) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let v = 0; v <= top + step * 0.999; v += step) ticks.push(Number(v.toPrecision(6)));
  return ticks;
}

function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  const low = Math.floor(Math.log10(min));
  const high = Math.ceil(Math.log10(max));
  for (let e = low; e <= high; e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= 10 ** low && v <= 10 ** high) ticks.push(Number(v.toPrecision(3)));
    }
  }
  return ticks;
}

function renderPanel(panel: Panel, offsetX: number): string {
  const plotW = PANEL_W - MARGIN.left - MARGIN.right;
  const plotH = PANEL_H - MARGIN.top - MARGIN.bottom;
  const finite = [
    ...panel.series.flatMap((s) => s.values),
    ...(panel.guides ?? []).map((g) => g.y),
  ].filter((v): v is number => v !== null && Number.isFinite(v) && (!panel.logY || v > 0));
  const maxY = finite.length ? Math.max(...finite) : 1;
  const minY = finite.length ? Math.min(...finite) : 1;
  const ticks = panel.logY ? logTicks(minY, maxY) : linearTicks(maxY);
  const lo = panel.logY ? Math.log10(ticks[0]) : 0;
  const hi = panel.logY ? Math.log10(ticks[ticks.length - 1]) : ticks[ticks.length - 1];
  const y = (v: number): number => {
    const t = panel.logY ? Math.log10(v) : v;
    return MARGIN.top + plotH - ((t - lo) / (hi - lo || 1)) * plotH;
  };
  const n = panel.xValues.length;
  const x = (i: number): number => MARGIN.left + (n === 1 ? plotW / 2 : (i * plotW) / (n - 1));
  const parts: string[] = [`<g transform="translate(${offsetX},0)">`];
  parts.push(
    `<text x="${PANEL_W / 2}" y="20" text-anchor="middle" ${FONT} font-size="14" font-weight="bold">${escapeXml(panel.title)}</text>`,
  );
  for (const tick of ticks) {
    const ty = y(tick).toFixed(1);
    parts.push(
      `<line x1="${MARGIN.left}" y1="${ty}" x2="${MARGIN.left + plotW}" y2="${ty}" stroke="#e4e4e4"/>`,
      `<text x="${MARGIN.left - 6}" y="${ty}" dy="4" text-anchor="end" ${FONT} font-size="11" fill="#444">${formatTick(tick)}</text>`,
    );
  }
  panel.xValues.forEach((value, i) => {
    parts.push(
      `<line x1="${x(i)}" y1="${MARGIN.top}" x2="${x(i)}" y2="${MARGIN.top + plotH}" stroke="#f0f0f0"/>`,
      `<text x="${x(i)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle" ${FONT} font-size="11" fill="#444">${value}</text>`,
    );
  });
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${MARGIN.top + plotH + 34}" text-anchor="middle" ${FONT} font-size="12">${escapeXml(panel.xLabel)}</text>`,
    `<text transform="translate(16,${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle" ${FONT} font-size="12">${escapeXml(panel.yLabel)}${panel.logY ? ' (log)' : ''}</text>`,
  );
  for (const guide of panel.guides ?? []) {
    const gy = y(guide.y).toFixed(1);
    parts.push(
      `<line x1="${MARGIN.left}" y1="${gy}" x2="${MARGIN.left + plotW}" y2="${gy}" stroke="#999" stroke-dasharray="2 3"/>`,
      `<text x="${MARGIN.left + 4}" y="${gy}" dy="-3" ${FONT} font-size="10" fill="#555" stroke="#fff" stroke-width="3" paint-order="stroke">${escapeXml(guide.label)}</text>`,
    );
  }
  for (const series of panel.series) {
    const dash = series.dashed ? ' stroke-dasharray="6 4"' : '';
    let path = '';
    let pen = false;
    series.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v) || (panel.logY && v <= 0)) {
        pen = false;
        return;
      }
      path += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)} `;
      pen = true;
      parts.push(
        `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${series.color}"/>`,
      );
    });
    if (path)
      parts.push(
        `<path d="${path.trim()}" fill="none" stroke="${series.color}" stroke-width="2"${dash}/>`,
      );
  }
  // Legend: two columns under the axis label.
  panel.series.forEach((series, i) => {
    const lx = MARGIN.left + (i % 2) * (plotW / 2);
    const ly = MARGIN.top + plotH + 54 + Math.floor(i / 2) * 18;
    const dash = series.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${series.color}" stroke-width="2"${dash}/>`,
      `<text x="${lx + 30}" y="${ly + 4}" ${FONT} font-size="11">${escapeXml(series.name)}</text>`,
    );
  });
  parts.push('</g>');
  return parts.join('\n');
}

/** Panels side by side under a title line. */
export function renderChart(title: string, subtitle: string, panels: Panel[]): string {
  const width = PANEL_W * panels.length;
  const height = PANEL_H + 44;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="12" y="20" ${FONT} font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="12" y="36" ${FONT} font-size="11" fill="#555">${escapeXml(subtitle)}</text>`,
    `<g transform="translate(0,44)">`,
    ...panels.map((panel, i) => renderPanel(panel, i * PANEL_W)),
    '</g>',
    '</svg>',
    '',
  ].join('\n');
}
