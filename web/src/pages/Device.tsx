import { useQuery } from '@tanstack/react-query';
import type { Outputs } from '../lib/trpc.ts';
import { trpc } from '../lib/trpc-query.ts';
import { roleAtLeast, type Me } from '../lib/auth.ts';
import { useLiveDevice, type LiveSample } from '../lib/live.ts';
import { ago, clockTime, dateTime, duration, gigabytes, gigahertz, known, label, mbits, percent } from '../lib/format.ts';
import { useConnection } from '../lib/connection.ts';
import { Stale } from '../components/Stale.tsx';
import { DeviceTickets } from './Tickets.tsx';
import { Link, navigate, useLocation } from '../lib/router.tsx';
import { DeviceStructure } from './FleetDevice.tsx';
import { Card, Empty, ErrorNote, PageHeader, QueryView, Spinner, StatusBadge } from '../components/ui.tsx';
import { DeviceCharts } from './DeviceCharts.tsx';
import { CommandPanel } from './CommandPanel.tsx';
import { ShellPanel } from './ShellPanel.tsx';
import { TerminalPanel } from './TerminalPanel.tsx';
import { DeviceFiles } from './DeviceFiles.tsx';
import { DeviceProcesses } from './DeviceProcesses.tsx';
import { CommandHistory, DeviceAudit } from './DeviceHistory.tsx';
import { DeviceAlerts } from './Alerts.tsx';
import { useNow } from '../lib/use-now.ts';
import { ApprovalNotice } from './DeviceApproval.tsx';
import { DeviceServices, DeviceSoftware, DeviceUpdates } from './DeviceSoftware.tsx';
import { DeviceAssetCard } from './Assets.tsx';
import { DeviceSettingsSection } from './Settings.tsx';

const TABS = [
  { key: 'overview', text: 'Overview', role: 'viewer' },
  { key: 'commands', text: 'Commands', role: 'viewer' },
  { key: 'shell', text: 'Shell', role: 'technician' },
  { key: 'files', text: 'Files', role: 'viewer' },
  { key: 'processes', text: 'Processes', role: 'viewer' },
  { key: 'inventory', text: 'Inventory', role: 'viewer' },
  { key: 'software', text: 'Software', role: 'viewer' },
  { key: 'services', text: 'Services', role: 'viewer' },
  { key: 'updates', text: 'Updates', role: 'viewer' },
  { key: 'tickets', text: 'Tickets', role: 'viewer' },
  { key: 'alerts', text: 'Alerts', role: 'viewer' },
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

type DeviceDetail = Outputs['devices']['get'];

function Inventory({ device }: { device: DeviceDetail }) {
  const inventory = device.inventory;
  if (!inventory) return <Empty title="No inventory reported yet" />;
  const filesystems = inventory.filesystems ?? [];
  const os = [known(inventory.os.distro), inventory.os.release].filter((part) => part && part !== '—').join(' ');
  return (
    <div className="grid-2">
      <Card title="System">
        <dl className="fields">
          <div><dt>Hostname</dt><dd>{known(inventory.hostname)}</dd></div>
          <div><dt>OS</dt><dd>{os || '—'} ({inventory.os.platform}, {inventory.os.arch})</dd></div>
          <div><dt>Kernel</dt><dd>{known(inventory.os.kernel)}</dd></div>
          <div><dt>Manufacturer</dt><dd>{known(inventory.hardware.manufacturer)}</dd></div>
          <div><dt>Model</dt><dd>{known(inventory.hardware.model)}</dd></div>
          <div><dt>Serial</dt><dd>{known(inventory.hardware.serial)}</dd></div>
          <div><dt>CPU</dt><dd>{known(inventory.cpu.brand)} · {inventory.cpu.cores} cores ({inventory.cpu.physicalCores} physical)</dd></div>
          <div><dt>Clock</dt><dd>{gigahertz(inventory.cpu.speedGHz)}</dd></div>
          <div><dt>Memory</dt><dd>{gigabytes(inventory.memoryBytes)}</dd></div>
          <div><dt>Agent</dt><dd>{known(inventory.agentVersion)}</dd></div>
          <div><dt>Machine key</dt><dd><span className="mono" title="The first 12 hex digits of the key's SHA-256; the key itself is never shown">{device.machineKeyFingerprint ?? '—'}</span></dd></div>
        </dl>
      </Card>
      <Card title="Disks and network">
        <h3>Disks</h3>
        {inventory.disks.length === 0 ? <p className="muted small">No physical disk reported (usual on virtual machines): see the file systems.</p> : (
          <ul className="plain" aria-label="Disks">
            {inventory.disks.map((disk, i) => (
              <li key={`${disk.device}-${i}`}><span className="mono">{known(disk.device || disk.name)}</span> · {known(disk.type)} · {gigabytes(disk.sizeBytes)}</li>
            ))}
          </ul>
        )}
        <h3>File systems</h3>
        {filesystems.length === 0 ? <p className="muted small">—</p> : (
          <ul className="plain" aria-label="File systems">
            {filesystems.map((f, i) => (
              <li key={`${f.mount}-${i}`}><span className="mono">{f.mount}</span> · {known(f.type)} · {gigabytes(f.sizeBytes)} <span className="muted small">({known(f.fs)})</span></li>
            ))}
          </ul>
        )}
        <h3>Network</h3>
        <ul className="plain" aria-label="Network interfaces">
          {inventory.interfaces.map((nic) => {
            const primary = Boolean(inventory.primaryAddress) && (nic.ip4 === inventory.primaryAddress || nic.ip6 === inventory.primaryAddress);
            return (
              <li key={nic.iface}>
                <span className="mono">{nic.iface}</span> · <span className="mono">{known(nic.ip4 || nic.ip6)}</span> · <span className="mono">{known(nic.mac)}</span>
                {primary ? <> <span className="badge badge-info">primary</span></> : null}
              </li>
            );
          })}
        </ul>
      </Card>
    </div>
  );
}

/** The agent keeps knocking with a secret the server refuses: what happened, and what fixes it. */
function CredentialsRefused({ refusal, canEnroll }: { refusal: NonNullable<DeviceDetail['credentialsRefused']>; canEnroll: boolean }) {
  return (
    <section className="notice notice-bad" role="region" aria-label="Credentials refused">
      <p>
        This device&apos;s agent is using credentials the server does not accept (since {clockTime(refusal.since)}
        {refusal.from ? <>, from <span className="mono">{refusal.from}</span></> : null}). Re-enroll it with a token.
      </p>
      <p className="muted small">
        Last refused {ago(refusal.lastAt)}. Usually its credentials file was restored from a backup or copied from another machine.
        {canEnroll ? <> Create a token on the <Link to="/tokens">Enrollment</Link> page and run the install line on the machine.</> : ' An admin can create an enrollment token.'}
      </p>
    </section>
  );
}

/** Where the address comes from, when it is only the connection's (older agents; NAT shows the router's). */
export function AddressNote({ source }: { source: 'interface' | 'connection' | null }) {
  return source === 'connection' ? <span className="muted small" title="The agent did not report its interfaces' addresses; this is the address its connection came from"> (connection)</span> : null;
}

export function DevicePage({ id, me }: { id: string; me: Me }) {
  const { search } = useLocation();
  const tab = TABS.find((t) => t.key === search.get('tab') && roleAtLeast(me.role, t.role))?.key ?? 'overview';
  const detail = useQuery(trpc.devices.get.queryOptions({ id }));
  const live = useLiveDevice(id);
  const now = useNow(5_000);
  const canRun = roleAtLeast(me.role, 'technician');
  const connection = useConnection();

  if (detail.error && !detail.data) {
    return (
      <>
        <PageHeader title="Device" />
        <ErrorNote error={detail.error} onRetry={() => void detail.refetch()} />
        <p><Link to="/devices">Back to devices</Link></p>
      </>
    );
  }
  if (!detail.data) return <Spinner />;
  // A retired device has left the live feed, which keeps its last row: the record is the truth then.
  const device = detail.data.status === 'decommissioned' ? detail.data : { ...detail.data, ...(live.device ?? {}) };
  // Nothing reaches a device waiting for approval: no panel offers to try.
  const waiting = detail.data.approvalState === 'pending';

  return (
    <>
      <nav aria-label="Breadcrumb" className="crumbs"><Link to="/devices">Devices</Link> / <span>{device.name}</span></nav>
      <PageHeader title={device.name}>
        {connection.reachable ? <StatusBadge status={device.status} /> : (
          <span className="badge badge-muted stale" data-testid="status-stale" title="The server is not answering: this is the last status it gave">Last known: {label(device.status)}</span>
        )}
        {detail.data.credentialsRefused && device.status !== 'decommissioned' ? <span className="badge badge-bad">Credentials refused</span> : null}
      </PageHeader>
      {detail.data.credentialsRefused && device.status !== 'decommissioned' ? (
        <CredentialsRefused refusal={detail.data.credentialsRefused} canEnroll={roleAtLeast(me.role, 'admin')} />
      ) : null}
      {waiting ? <ApprovalNotice deviceId={id} info={detail.data} canDecide={roleAtLeast(me.role, 'admin')} /> : null}
      <p className="device-meta muted">
        {[device.osType, device.osVersion].filter(Boolean).join(' · ') || 'OS unknown'} · <span className="mono" data-testid="device-address">{detail.data.address ?? 'no IP'}</span>
        <AddressNote source={detail.data.addressSource} /> ·
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
            {canRun ? <DeviceStructure deviceId={id} canEdit={roleAtLeast(me.role, 'admin')} /> : null}
            <Card title="Latest values">
              {live.error && connection.reachable ? <ErrorNote error={live.error} /> : null}
              <Stale updatedAt={live.sample?.collectedAt ?? device.lastSeen}><LatestValues sample={live.sample} /></Stale>
            </Card>
            <DeviceCharts deviceId={id} livePoints={live.points} />
          </>
        ) : null}
        {tab === 'commands' ? (
          <>
            {waiting ? <p className="muted" data-testid="approval-note">Commands can run once an admin approves this device.</p> : canRun ? <CommandPanel deviceId={id} osType={device.osType} /> : (
              <p className="muted" data-testid="viewer-note">Your role ({me.role}) can see command history but not run commands.</p>
            )}
            <CommandHistory deviceId={id} />
          </>
        ) : null}
        {tab === 'shell' && canRun ? (waiting ? <p className="muted">A shell can open once an admin approves this device.</p> : <><TerminalPanel deviceId={id} osType={device.osType} /><ShellPanel deviceId={id} osType={device.osType} /></>) : null}
        {tab === 'files' ? (waiting ? <p className="muted">Files can be browsed once an admin approves this device.</p> : <DeviceFiles deviceId={id} osType={device.osType} canTransfer={canRun} />) : null}
        {tab === 'processes' ? (waiting ? <p className="muted">Processes can be listed once an admin approves this device.</p> : <DeviceProcesses deviceId={id} canAct={canRun} />) : null}
        {tab === 'inventory' ? (
          <>
            <QueryView query={detail}>{(data) => <Inventory device={data} />}</QueryView>
            {canRun ? <DeviceAssetCard deviceId={id} /> : null}
            <DeviceSettingsSection deviceId={id} canEdit={canRun} />
          </>
        ) : null}
        {tab === 'software' ? <DeviceSoftware deviceId={id} /> : null}
        {tab === 'services' ? <DeviceServices deviceId={id} /> : null}
        {tab === 'updates' ? <DeviceUpdates deviceId={id} /> : null}
        {tab === 'tickets' ? <DeviceTickets deviceId={id} canWork={canRun} /> : null}
        {tab === 'alerts' ? <DeviceAlerts deviceId={id} canAct={canRun} /> : null}
        {tab === 'audit' && roleAtLeast(me.role, 'admin') ? <DeviceAudit deviceId={id} /> : null}
      </div>
    </>
  );
}
