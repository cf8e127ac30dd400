import { useQuery } from '@tanstack/react-query';
import { api } from '../lib/trpc.ts';
import { roleAtLeast, type Me } from '../lib/auth.ts';
import { useLiveDevice, type LiveSample } from '../lib/live.ts';
import { ago, dateTime, duration, gigabytes, mbits, percent } from '../lib/format.ts';
import { Link, navigate, useLocation } from '../lib/router.tsx';
import { Card, Empty, ErrorNote, PageHeader, QueryView, Spinner, StatusBadge } from '../components/ui.tsx';
import { DeviceCharts } from './DeviceCharts.tsx';
import { CommandPanel } from './CommandPanel.tsx';
import { ShellPanel } from './ShellPanel.tsx';
import { CommandHistory, DeviceAudit } from './DeviceHistory.tsx';
import { useNow } from '../lib/use-now.ts';

const TABS = [
  { key: 'overview', text: 'Overview', role: 'viewer' },
  { key: 'commands', text: 'Commands', role: 'viewer' },
  { key: 'shell', text: 'Shell', role: 'technician' },
  { key: 'inventory', text: 'Inventory', role: 'viewer' },
  { key: 'audit', text: 'Audit trail', role: 'admin' },
] as const;

function LatestValues({ sample }: { sample: LiveSample | null }) {
  if (!sample) return <Empty title="No values yet">The agent's first sample appears here within one interval.</Empty>;
  const memoryUsed = sample.memory.totalBytes - sample.memory.availableBytes;
  const rx = sample.network.reduce((total, nic) => total + (nic.rxBytesPerSec ?? 0), 0);
  const tx = sample.network.reduce((total, nic) => total + (nic.txBytesPerSec ?? 0), 0);
  return (
    <>
      <div className="stat-grid" aria-label="Latest values" role="list">
        <div className="stat" role="listitem"><span className="stat-value">{percent(sample.cpu.loadPercent)}</span><span className="stat-label">CPU</span></div>
        <div className="stat" role="listitem">
          <span className="stat-value">{percent((memoryUsed / Math.max(1, sample.memory.totalBytes)) * 100)}</span>
          <span className="stat-label">Memory · {gigabytes(memoryUsed)} of {gigabytes(sample.memory.totalBytes)}</span>
        </div>
        <div className="stat" role="listitem"><span className="stat-value">{mbits(rx)}</span><span className="stat-label">Network in</span></div>
        <div className="stat" role="listitem"><span className="stat-value">{mbits(tx)}</span><span className="stat-label">Network out</span></div>
        <div className="stat" role="listitem"><span className="stat-value">{duration(sample.uptimeSec)}</span><span className="stat-label">Uptime</span></div>
      </div>
      {sample.disks.length > 0 ? (
        <div className="table-wrap">
          <table className="table compact">
            <caption className="sr-only">Disks</caption>
            <thead><tr><th scope="col">Mount</th><th scope="col">File system</th><th scope="col" className="num">Used</th><th scope="col" className="num">Size</th><th scope="col" className="num">Use</th></tr></thead>
            <tbody>
              {sample.disks.map((disk) => (
                <tr key={disk.mount}>
                  <td className="mono">{disk.mount}</td>
                  <td>{disk.type}</td>
                  <td className="num">{gigabytes(disk.usedBytes)}</td>
                  <td className="num">{gigabytes(disk.sizeBytes)}</td>
                  <td className="num">{percent(disk.sizeBytes > 0 ? (disk.usedBytes / disk.sizeBytes) * 100 : null)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <p className="muted small">Collected {dateTime(sample.collectedAt)}</p>
    </>
  );
}

type DeviceDetail = Awaited<ReturnType<ReturnType<typeof api>['devices']['get']['query']>>;

function Inventory({ device }: { device: DeviceDetail }) {
  const inventory = device.inventory;
  if (!inventory) return <Empty title="No inventory reported yet" />;
  return (
    <div className="grid-2">
      <Card title="System">
        <dl className="fields">
          <div><dt>Hostname</dt><dd>{inventory.hostname}</dd></div>
          <div><dt>OS</dt><dd>{inventory.os.distro} {inventory.os.release} ({inventory.os.platform}, {inventory.os.arch})</dd></div>
          <div><dt>Kernel</dt><dd>{inventory.os.kernel}</dd></div>
          <div><dt>Manufacturer</dt><dd>{inventory.hardware.manufacturer || '—'}</dd></div>
          <div><dt>Model</dt><dd>{inventory.hardware.model || '—'}</dd></div>
          <div><dt>Serial</dt><dd>{inventory.hardware.serial || '—'}</dd></div>
          <div><dt>CPU</dt><dd>{inventory.cpu.brand} · {inventory.cpu.cores} cores ({inventory.cpu.physicalCores} physical) · {inventory.cpu.speedGHz} GHz</dd></div>
          <div><dt>Memory</dt><dd>{gigabytes(inventory.memoryBytes)}</dd></div>
          <div><dt>Agent</dt><dd>{inventory.agentVersion}</dd></div>
        </dl>
      </Card>
      <Card title="Disks and network">
        <ul className="plain">
          {inventory.disks.map((disk, i) => <li key={`${disk.device}-${i}`}><span className="mono">{disk.device || disk.name}</span> · {disk.type} · {gigabytes(disk.sizeBytes)}</li>)}
        </ul>
        <ul className="plain">
          {inventory.interfaces.map((nic) => <li key={nic.iface}><span className="mono">{nic.iface}</span> · {nic.ip4 || '—'} · {nic.mac || '—'}</li>)}
        </ul>
      </Card>
    </div>
  );
}

export function DevicePage({ id, me }: { id: string; me: Me }) {
  const { search } = useLocation();
  const tab = TABS.find((t) => t.key === search.get('tab') && roleAtLeast(me.role, t.role))?.key ?? 'overview';
  const detail = useQuery({ queryKey: ['devices.get', id], queryFn: () => api().devices.get.query({ id }) });
  const live = useLiveDevice(id);
  const now = useNow(5_000);
  const canRun = roleAtLeast(me.role, 'technician');

  if (detail.error) {
    return (
      <>
        <PageHeader title="Device" />
        <ErrorNote error={detail.error} onRetry={() => void detail.refetch()} />
        <p><Link to="/devices">Back to devices</Link></p>
      </>
    );
  }
  if (!detail.data) return <Spinner />;
  const device = { ...detail.data, ...(live.device ?? {}) };

  return (
    <>
      <nav aria-label="Breadcrumb" className="crumbs"><Link to="/devices">Devices</Link> / <span>{device.name}</span></nav>
      <PageHeader title={device.name}>
        <StatusBadge status={device.status} />
      </PageHeader>
      <p className="device-meta muted">
        {[device.osType, device.osVersion].filter(Boolean).join(' · ') || 'OS unknown'} · <span className="mono">{device.ipAddress ?? 'no IP'}</span> ·
        last seen <span title={dateTime(device.lastSeen)}>{ago(device.lastSeen, now)}</span> · agent {device.agentVersion ?? '—'}
      </p>
      <div className="tabs" role="tablist" aria-label="Device sections">
        {TABS.filter((t) => roleAtLeast(me.role, t.role)).map((t) => (
          <button
            key={t.key}
            type="button"
            role="tab"
            id={`tab-${t.key}`}
            aria-selected={tab === t.key}
            aria-controls={`panel-${t.key}`}
            tabIndex={tab === t.key ? 0 : -1}
            onClick={() => navigate(`/devices/${id}${t.key === 'overview' ? '' : `?tab=${t.key}`}`, { replace: true })}
            onKeyDown={(e) => {
              const visible = TABS.filter((x) => roleAtLeast(me.role, x.role));
              const index = visible.findIndex((x) => x.key === t.key);
              const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
              if (!step) return;
              const next = visible[(index + step + visible.length) % visible.length]!;
              navigate(`/devices/${id}${next.key === 'overview' ? '' : `?tab=${next.key}`}`, { replace: true });
              requestAnimationFrame(() => document.getElementById(`tab-${next.key}`)?.focus());
            }}
          >
            {t.text}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'overview' ? (
          <>
            <Card title="Latest values">{live.error ? <ErrorNote error={live.error} /> : <LatestValues sample={live.sample} />}</Card>
            <DeviceCharts deviceId={id} livePoints={live.points} />
          </>
        ) : null}
        {tab === 'commands' ? (
          <>
            {canRun ? <CommandPanel deviceId={id} osType={device.osType} /> : (
              <p className="muted" data-testid="viewer-note">Your role ({me.role}) can see command history but not run commands.</p>
            )}
            <CommandHistory deviceId={id} />
          </>
        ) : null}
        {tab === 'shell' && canRun ? <ShellPanel deviceId={id} osType={device.osType} /> : null}
        {tab === 'inventory' ? <QueryView query={detail}>{(data) => <Inventory device={data} />}</QueryView> : null}
        {tab === 'audit' && roleAtLeast(me.role, 'admin') ? <DeviceAudit deviceId={id} /> : null}
      </div>
    </>
  );
}
