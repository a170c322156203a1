import type { MetricsPoint } from "@kubeairunway/shared";
import { useMemo } from "react";
import type uPlot from "uplot";

import { UPlotChart } from "../../components/charts/UPlotChart";
import { CHARTS, chartColumns, compact, duration, type ChartSpec } from "../../lib/metrics";

/** Theme colours of the series, in order (CSS variables of index.css, read when drawn). */
const SERIES_COLOURS = ["--kr-primary", "--kr-warn", "--kr-ok"];

function cssVar(name: string, fallback: string): string {
  if (typeof document === "undefined") return fallback;
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

function formatValue(spec: ChartSpec, v: number): string {
  if (spec.unit === "seconds") return duration(v);
  if (spec.unit === "%") return `${v.toFixed(1)} %`;
  return compact(v);
}

/**
 * The history of the Metrics tab as line charts (uPlot on a canvas), each with a legend of
 * latest values and its data as a table. This module is loaded lazily: uPlot stays out of the
 * initial bundle.
 */
export default function MetricsCharts({ history }: { history: MetricsPoint[] }) {
  const charts = CHARTS.map((spec) => ({ spec, cols: chartColumns(history, spec) })).filter(
    (c): c is { spec: ChartSpec; cols: NonNullable<ReturnType<typeof chartColumns>> } => c.cols !== null,
  );
  if (charts.length === 0) {
    return <p className="text-sm text-muted">No history yet: the charts fill in as the tab refreshes.</p>;
  }
  return (
    <div className="grid gap-4 lg:grid-cols-2">
      {charts.map(({ spec, cols }) => (
        <Chart key={spec.key} spec={spec} labels={cols.labels} columns={cols.columns} />
      ))}
    </div>
  );
}

function Chart({ spec, labels, columns }: { spec: ChartSpec; labels: string[]; columns: [number[], ...(number | null)[][]] }) {
  const colours = labels.map((_, i) => cssVar(SERIES_COLOURS[i % SERIES_COLOURS.length] ?? "--kr-primary", "#1d4ed8"));
  const key = labels.join("|");
  // Points are drawn while a line has too few of them to be seen.
  const few = columns[0].length < 3;
  const options = useMemo<Omit<uPlot.Options, "width">>(() => {
    const axis = cssVar("--kr-muted", "#4b5563");
    const grid = cssVar("--kr-line", "#d5dbe3");
    const names = key.split("|");
    return {
      height: 180,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
      axes: [
        { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
        {
          stroke: axis,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid },
          size: 60,
          values: (_u, splits) => splits.map((v) => formatValue(spec, v)),
        },
      ],
      series: [
        {},
        ...names.map((label, i) => ({
          label,
          stroke: cssVar(SERIES_COLOURS[i % SERIES_COLOURS.length] ?? "--kr-primary", "#1d4ed8"),
          width: 2,
          spanGaps: true,
          points: { show: few },
        })),
      ],
    };
  }, [key, spec, few]);
  const data = columns as unknown as uPlot.AlignedData;
  const last = (col: (number | null)[]) => [...col].reverse().find((v) => v !== null) ?? null;
  const summary = labels
    .map((l, i) => {
      const v = last(columns[i + 1] ?? []);
      return `${l} ${v === null ? "unknown" : formatValue(spec, v)}`;
    })
    .join(", ");
  const rows = columns[0].map((t, row) => ({ t, values: labels.map((_, i) => columns[i + 1]?.[row] ?? null) })).reverse();

  return (
    <figure className="min-w-0 rounded-lg border border-line bg-surface p-3">
      <figcaption className="mb-2 flex flex-wrap items-baseline justify-between gap-2">
        <span className="text-sm font-semibold">
          {spec.title} <span className="font-normal text-muted">({spec.unit})</span>
        </span>
        <span className="flex flex-wrap gap-3 text-xs">
          {labels.map((l, i) => {
            const v = last(columns[i + 1] ?? []);
            return (
              <span key={l} className="inline-flex items-center gap-1">
                <span aria-hidden="true" className="inline-block h-0.5 w-3" style={{ background: colours[i] }} />
                {l}: <span className="font-mono tabular-nums">{v === null ? "—" : formatValue(spec, v)}</span>
              </span>
            );
          })}
        </span>
      </figcaption>
      <UPlotChart options={options} data={data} label={`${spec.title} over the last ${columns[0].length} refreshes: latest ${summary}`} />
      <details className="mt-2 text-xs">
        <summary className="cursor-pointer text-muted">Data ({columns[0].length} points)</summary>
        <div className="mt-1 max-h-48 overflow-auto">
          <table className="w-full text-left tabular-nums">
            <caption className="sr-only">{spec.title}</caption>
            <thead className="text-muted">
              <tr>
                <th scope="col" className="pr-3 font-medium">
                  Time
                </th>
                {labels.map((l) => (
                  <th key={l} scope="col" className="pr-3 font-medium">
                    {l}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.t}>
                  <td className="pr-3">{new Date(r.t * 1000).toLocaleTimeString()}</td>
                  {r.values.map((v, i) => (
                    <td key={labels[i]} className="pr-3 font-mono">
                      {v === null ? "—" : formatValue(spec, v)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
