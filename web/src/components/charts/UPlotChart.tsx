import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/**
 * uPlot in React: the chart is made when `options` change (memoize them) and fed new `data`
 * in place; it follows its container's width. Only the lazily loaded chart chunk imports this.
 */
export function UPlotChart({
  options,
  data,
  label,
}: {
  options: Omit<uPlot.Options, "width">;
  data: uPlot.AlignedData;
  /** What the canvas shows, for screen readers (the figure also has a data table). */
  label: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  // The data the chart is (re)made with; the data effect below keeps it current.
  const latest = useRef(data);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const u = new uPlot({ ...options, width: Math.max(200, el.clientWidth) }, latest.current, el);
    chart.current = u;
    const resize =
      typeof ResizeObserver === "undefined"
        ? null
        : new ResizeObserver(() => {
            u.setSize({ width: Math.max(200, el.clientWidth), height: options.height });
          });
    resize?.observe(el);
    return () => {
      resize?.disconnect();
      u.destroy();
      chart.current = null;
    };
  }, [options]);

  useEffect(() => {
    latest.current = data;
    chart.current?.setData(data);
  }, [data]);

  return <div ref={box} role="img" aria-label={label} className="w-full" />;
}
