import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { trpc } from '../lib/trpc-query.ts';
import { Link } from '../lib/router.tsx';
import { ErrorNote } from '../components/ui.tsx';
import { ago } from '../lib/format.ts';
import { useNow } from '../lib/use-now.ts';

/** What the server says about a device waiting for approval. */
export interface PendingInfo {
  pendingReason?: string | null;
  reason?: string | null;
  claimsDeviceName: string | null;
}

/** "This machine claims to be <name>, but could not prove it": why an admin has to decide. */
export function pendingExplanation(info: PendingInfo): string {
  const who = info.claimsDeviceName ? `"${info.claimsDeviceName}"` : 'a known device';
  const reason = info.pendingReason ?? info.reason;
  return `This machine claims to be ${who}, but could not prove it${reason === 'wrong_credentials' ? ' (its credentials were wrong)' : ''}.`;
}

/** "Waiting for approval", said in full to screen readers; `compact` shows "Waiting" where a table column is narrow. */
export function ApprovalBadge({ info, compact = false }: { info: PendingInfo; compact?: boolean }) {
  return (
    <span className="badge badge-warn" title={pendingExplanation(info)}>
      Waiting{compact ? <span className="sr-only"> for approval</span> : ' for approval'}
    </span>
  );
}

/** Approve, replace or reject one pending device; refreshes every view of devices after. */
function Decisions({ deviceId, claimsDeviceName }: { deviceId: string; claimsDeviceName: string | null }) {
  const queryClient = useQueryClient();
  // Every devices query: the page, the fleet, the counts and this list all change with a decision.
  const options = { onSuccess: () => void queryClient.invalidateQueries(trpc.devices.pathFilter()) };
  const decisions = {
    approve: useMutation(trpc.devices.approve.mutationOptions(options)),
    replace: useMutation(trpc.devices.replace.mutationOptions(options)),
    reject: useMutation(trpc.devices.reject.mutationOptions(options)),
  };
  const all = Object.values(decisions);
  const decide = {
    mutate: (decision: keyof typeof decisions) => decisions[decision].mutate({ id: deviceId }),
    isPending: all.some((mutation) => mutation.isPending),
    error: all.find((mutation) => mutation.error)?.error,
  };
  const claimed = claimsDeviceName ? `"${claimsDeviceName}"` : 'the device it claims';
  return (
    <>
      <div className="row wrap" role="group" aria-label="Decide on this device">
        <button type="button" className="small" disabled={decide.isPending} onClick={() => decide.mutate('approve')}>
          Approve as a new device
        </button>
        <button
          type="button"
          className="secondary small"
          disabled={decide.isPending}
          onClick={() => {
            if (confirm(`Replace ${claimed} with this machine? ${claimed} is decommissioned and this machine takes its name.`)) decide.mutate('replace');
          }}
        >
          Replace {claimed}
        </button>
        <button
          type="button"
          className="secondary small"
          disabled={decide.isPending}
          onClick={() => {
            if (confirm('Reject this machine? It is decommissioned and its credentials stop working.')) decide.mutate('reject');
          }}
        >
          Reject
        </button>
      </div>
      {decide.error ? <ErrorNote error={decide.error} /> : null}
    </>
  );
}

/** The device page's notice for a device waiting for approval; the actions only for admins. */
export function ApprovalNotice({ deviceId, info, canDecide }: { deviceId: string; info: PendingInfo; canDecide: boolean }) {
  return (
    <section className="card highlight" aria-label="Waiting for approval">
      <h2>Waiting for approval</h2>
      <p>{pendingExplanation(info)} No command or shell reaches it until an admin decides.</p>
      {canDecide ? <Decisions deviceId={deviceId} claimsDeviceName={info.claimsDeviceName} /> : <p className="muted small">An admin can approve, replace or reject it.</p>}
    </section>
  );
}

/** The fleet page's list of devices waiting for approval; nothing when there are none. */
export function PendingDevices({ canDecide }: { canDecide: boolean }) {
  const now = useNow(30_000);
  const pending = useQuery(trpc.devices.pending.queryOptions(undefined, { refetchInterval: 10_000 }));
  if (pending.error) return <ErrorNote error={pending.error} onRetry={() => void pending.refetch()} />;
  if (!pending.data || pending.data.length === 0) return null;
  return (
    <section className="card highlight" aria-label="Waiting for approval">
      <h2>Waiting for approval ({pending.data.length})</h2>
      <ul className="plain">
        {pending.data.map((device) => (
          <li key={device.id} data-pending-device-id={device.id}>
            <p>
              <Link to={`/devices/${device.id}`}>{device.name || device.id}</Link>{' '}
              <span className="muted small">
                from <span className="mono">{device.ipAddress ?? 'unknown address'}</span>, enrolled {ago(device.createdAt, now)}
                {device.machineKeyFingerprint ? <> · key <span className="mono">{device.machineKeyFingerprint}</span></> : null}
              </span>
            </p>
            <p>{pendingExplanation(device)}</p>
            {canDecide ? <Decisions deviceId={device.id} claimsDeviceName={device.claimsDeviceName} /> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
