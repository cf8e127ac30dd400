import { useMemo, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import type { Outputs } from '../lib/trpc.ts';
import { trpc } from '../lib/trpc-query.ts';
import { Chart, type ChartSeries } from '../components/Chart.tsx';
import { Empty, Spinner, ErrorNote } from '../components/ui.tsx';
import { TIME_ZONE, gigabytes, mbits, percent } from '../lib/format.ts';
import type { SamplePoint } from '../lib/live.ts';

const RANGES = [
  { key: '1h', text: '1 hour', sec: 3_600 },
  { key: '24h', text: '24 hours', sec: 86_400 },
  { key: '30d', text: '30 days', sec: 30 * 86_400 },
] as const;
type RangeKey = (typeof RANGES)[number]['key'];

/** `metrics.series` points (window means) as chart points. */
export function fromSeries(points: Outputs['metrics']['series']['points']): SamplePoint[] {
  return points
    .map((p) => ({
      t: new Date(p.timestamp).getTime(),
      cpuPercent: p.cpu, memoryPercent: p.memory, diskUsedBytes: p.diskUsed, rxBytesPerSec: p.networkRx, txBytesPerSec: p.networkTx,
    }))
    .filter((p) => Number.isFinite(p.t))
    .sort((a, b) => a.t - b.t);
}

/** The answer as chart points; one function (not one per render), so react-query keeps its result until the data changes. */
const toChart = (answer: Outputs['metrics']['series']) => ({ engine: answer.engine, points: fromSeries(answer.points) });

function Charts({ points, windowSec }: { points: SamplePoint[]; windowSec: number }) {
  const times = useMemo(() => points.map((p) => p.t), [points]);
  const usage: ChartSeries[] = useMemo(() => [
    { label: 'CPU', color: '#2563eb', values: points.map((p) => p.cpuPercent) },
    { label: 'Memory', color: '#16a34a', values: points.map((p) => p.memoryPercent) },
  ], [points]);
  const disk: ChartSeries[] = useMemo(() => [
    { label: 'Used', color: '#d97706', values: points.map((p) => (p.diskUsedBytes === null ? null : p.diskUsedBytes / 1e9)) },
  ], [points]);
  const network: ChartSeries[] = useMemo(() => [
    { label: 'In', color: '#7c3aed', values: points.map((p) => (p.rxBytesPerSec === null ? null : (p.rxBytesPerSec * 8) / 1e6)) },
    { label: 'Out', color: '#db2777', values: points.map((p) => (p.txBytesPerSec === null ? null : (p.txBytesPerSec * 8) / 1e6)) },
  ], [points]);
  return (
    <div className="charts">
      <Chart title="CPU and memory (%)" times={times} series={usage} yRange={[0, 100]} windowSec={windowSec} format={(v) => percent(v, 0)} />
      <Chart title="Network (Mbit/s)" times={times} series={network} windowSec={windowSec} format={(v) => mbits((v * 1e6) / 8)} />
      <Chart title="Disk used (GB)" times={times} series={disk} windowSec={windowSec} format={(v) => gigabytes(v * 1e9)} />
    </div>
  );
}

/**
 * History from the time-series store (window means: 5 min over 1 h, 1 h over 24 h, 1 day over 30 d).
 * Until the first window closes, the last hour shows the live points seen since the page opened.
 */
export function DeviceCharts({ deviceId, livePoints }: { deviceId: string; livePoints: SamplePoint[] }) {
  const [range, setRange] = useState<RangeKey>('1h');
  const series = useQuery(trpc.metrics.series.queryOptions({ deviceId, range }, { select: toChart }));
  const history = useMemo(() => series.data?.points ?? [], [series.data]);
  // The last hour continues with live points past the last closed window, so the chart moves.
  const useLive = range === '1h' && series.isSuccess;
  const points = useMemo(() => {
    if (!useLive) return history;
    // Windows are stamped with their end: the one still open (end in the future) gives way to live points.
    const closed = history.filter((p) => p.t <= Date.now());
    const after = closed.length > 0 ? closed[closed.length - 1]!.t : 0;
    return [...closed, ...livePoints.filter((p) => p.t > after)];
  }, [useLive, history, livePoints]);

  return (
    <section className="card" aria-labelledby="charts-title">
      <div className="card-head">
        <h2 id="charts-title">Charts</h2>
        <div className="segmented" role="group" aria-label="Time range">
          {RANGES.map((r) => (
            <button key={r.key} type="button" aria-pressed={range === r.key} onClick={() => setRange(r.key)}>{r.text}</button>
          ))}
        </div>
        <span className="muted small">Times in {TIME_ZONE}</span>
      </div>
      {series.data ? (
        <p className="muted small">
          {range === '1h' ? '5-minute averages, then live values since this page opened.' : `Averages per ${range === '24h' ? 'hour' : 'day'}.`}
        </p>
      ) : null}
      {series.isPending ? <Spinner /> : null}
      {series.error ? <ErrorNote error={series.error} onRetry={() => void series.refetch()} /> : null}
      {series.isSuccess && points.length === 0 ? <Empty title="No data points yet">Points appear as the agent reports.</Empty> : null}
      {points.length > 0 ? <Charts points={points} windowSec={RANGES.find((r) => r.key === range)!.sec} /> : null}
    </section>
  );
}
