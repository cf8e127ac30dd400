import { useEffect, useRef } from 'react';
import uPlot, { type AlignedData, type Options } from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { TIME_ZONE } from '../lib/format.ts';

export interface ChartSeries {
  label: string;
  color: string;
  values: (number | null)[];
}

interface ChartProps {
  title: string;
  /** Epoch milliseconds. */
  times: number[];
  series: ChartSeries[];
  /** Formats axis ticks and legend values, e.g. `v => v.toFixed(0) + ' %'`. */
  format: (value: number) => string;
  /** Fixed y range (percentages); otherwise from zero to a little above the highest value. */
  yRange?: [number, number];
  /** The time window shown, ending now; otherwise fitted to the data. */
  windowSec?: number;
  height?: number;
}

/** uPlot line chart in the browser's time zone; resizes with its container. */
export function Chart({ title, times, series, format, yRange, windowSec, height = 220 }: ChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const options: Options = {
      width: Math.max(element.clientWidth, 200),
      height,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), TIME_ZONE),
      scales: {
        // A fixed window keeps one point from stretching the axis over years.
        x: windowSec ? { time: true, range: () => [Date.now() / 1000 - windowSec, Date.now() / 1000] } : { time: true },
        y: { range: yRange ?? ((_u, _min, max) => [0, max > 0 ? max * 1.15 : 1]) },
      },
      axes: [
        { stroke: '#475569', grid: { stroke: '#e2e8f0' } },
        { stroke: '#475569', grid: { stroke: '#e2e8f0' }, size: 84, values: (_u, ticks) => ticks.map((tick) => format(tick)) },
      ],
      series: [
        { label: 'Time' },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          points: { show: times.length < 60, size: 5 },
          spanGaps: false,
          value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '—' : format(v)),
        })),
      ],
      legend: { live: true },
    };
    const data = [times.map((t) => t / 1000), ...series.map((s) => s.values)] as AlignedData;
    plot.current = new uPlot(options, data, element);
    const observer = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(element.clientWidth, 200), height }));
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // Re-created when the shape changes; data-only updates go through setData below.
  }, [series.length, height, yRange?.[0], yRange?.[1], windowSec, times.length < 60]);

  useEffect(() => {
    plot.current?.setData([times.map((t) => t / 1000), ...series.map((s) => s.values)] as AlignedData);
  }, [times, series]);

  return (
    <figure className="chart" aria-label={`${title} chart, ${times.length} points`} data-points={times.length}>
      <figcaption>{title}</figcaption>
      <div ref={host} className="chart-canvas" />
    </figure>
  );
}
