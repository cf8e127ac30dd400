import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Inputs, Outputs } from '../lib/trpc.ts';
import { trpc } from '../lib/trpc-query.ts';
import { label } from '../lib/format.ts';
import { Card, Empty, ErrorNote } from '../components/ui.tsx';
import { DataTable, type Column } from '../components/DataTable.tsx';

type Policy = Outputs['patches']['policies']['list'][number];
type PolicyInput = Inputs['patches']['policies']['create'];
type ScopeKind = PolicyInput['scope']['kind'];
const SCOPE_KINDS: ScopeKind[] = ['organization', 'site', 'group', 'tag'];
const CLASSIFICATIONS: NonNullable<PolicyInput['approveClassifications']> = ['security', 'critical', 'bugfix', 'feature', 'other'];
const SEVERITIES: NonNullable<PolicyInput['approveSeverities']> = ['critical', 'important', 'moderate', 'low', 'unspecified'];
const REBOOTS = ['never', 'if_required', 'always'] as const;

interface Draft {
  id: string | null;
  name: string;
  scopeKind: ScopeKind;
  scopeId: string;
  classifications: string[];
  severities: string[];
  patterns: string;
  excludePatterns: string;
  autoApprove: boolean;
  deferralDays: string;
  windowCron: string;
  windowTz: string;
  windowDurationMin: string;
  reboot: (typeof REBOOTS)[number];
  rebootNoticeMin: string;
}

const EMPTY: Draft = {
  id: null, name: '', scopeKind: 'site', scopeId: '', classifications: ['security', 'critical'], severities: [], patterns: '', excludePatterns: '',
  autoApprove: false, deferralDays: '0', windowCron: '', windowTz: 'UTC', windowDurationMin: '120', reboot: 'if_required', rebootNoticeMin: '15',
};

const draftOf = (policy: Policy): Draft => ({
  id: policy.id, name: policy.name, scopeKind: policy.scopeKind, scopeId: policy.scopeValue ?? '', classifications: policy.approveClassifications,
  severities: policy.approveSeverities, patterns: policy.approveNamePatterns.join(', '), excludePatterns: policy.excludeNamePatterns.join(', '),
  autoApprove: policy.autoApprove, deferralDays: String(policy.deferralDays), windowCron: policy.windowCron ?? '', windowTz: policy.windowTz,
  windowDurationMin: String(policy.windowDurationMin), reboot: policy.reboot, rebootNoticeMin: String(policy.rebootNoticeMin),
});

const list = (text: string) => text.split(/[\s,]+/).filter(Boolean);
const toggled = (values: string[], value: string) => (values.includes(value) ? values.filter((v) => v !== value) : [...values, value]);

/**
 * Patch policies by scope: the organization, a site, a saved group or a tag. The table says which
 * wins where several reach a device; admins add, change and remove them.
 */
export function PatchPolicies({ canEdit }: { canEdit: boolean }) {
  const client = useQueryClient();
  const refresh = () => void client.invalidateQueries(trpc.patches.pathFilter());
  const policies = useQuery(trpc.patches.policies.list.queryOptions());
  // The scope picker lists the organization's sites, groups and tags (readable by technicians and up).
  const sites = useQuery(trpc.fleet.sites.list.queryOptions(undefined, { enabled: canEdit }));
  const groups = useQuery(trpc.fleet.groups.list.queryOptions(undefined, { enabled: canEdit }));
  const tags = useQuery(trpc.fleet.tags.list.queryOptions(undefined, { enabled: canEdit }));
  const [draft, setDraft] = useState<Draft | null>(null);
  const done = { onSuccess: () => { setDraft(null); refresh(); } };
  const create = useMutation(trpc.patches.policies.create.mutationOptions(done));
  const update = useMutation(trpc.patches.policies.update.mutationOptions(done));
  const remove = useMutation(trpc.patches.policies.delete.mutationOptions({ onSuccess: refresh }));

  const targets: Record<ScopeKind, Array<{ id: string; name: string }>> = {
    organization: [], site: sites.data ?? [], group: groups.data ?? [], tag: tags.data ?? [],
  };
  const scopeName = (policy: Policy) => (policy.scopeKind === 'organization' ? 'Whole organization'
    : `${label(policy.scopeKind)}: ${targets[policy.scopeKind].find((t) => t.id === policy.scopeValue)?.name ?? policy.scopeValue ?? ''}`);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!draft) return;
    const rules = {
      name: draft.name.trim() || 'Patch policy',
      approveClassifications: draft.classifications as PolicyInput['approveClassifications'],
      approveSeverities: draft.severities as PolicyInput['approveSeverities'],
      approveNamePatterns: list(draft.patterns), excludeNamePatterns: list(draft.excludePatterns),
      autoApprove: draft.autoApprove, deferralDays: Number(draft.deferralDays),
      windowCron: draft.windowCron.trim() || null, windowTz: draft.windowTz.trim() || 'UTC', windowDurationMin: Number(draft.windowDurationMin),
      reboot: draft.reboot, rebootNoticeMin: Number(draft.rebootNoticeMin),
    };
    const scope = { kind: draft.scopeKind, id: draft.scopeKind === 'organization' ? null : draft.scopeId };
    if (draft.id) update.mutate({ id: draft.id, ...rules, scope });
    else create.mutate({ ...rules, scope });
  };

  const columns: Column<Policy>[] = [
    { key: 'scope', header: 'Applies to', cell: scopeName, sortValue: (p) => p.scopeKind },
    { key: 'name', header: 'Name', cell: (p) => p.name, sortValue: (p) => p.name },
    { key: 'approves', header: 'Approves', cell: (p) => [...p.approveClassifications, ...p.approveSeverities, ...p.approveNamePatterns].map(label).join(', ') || '—' },
    { key: 'window', header: 'Window', className: 'mono small', cell: (p) => (p.windowCron ? `${p.windowCron} (${p.windowTz}, ${p.windowDurationMin} min)` : 'when asked') },
    { key: 'auto', header: 'Auto', cell: (p) => (p.autoApprove ? 'Yes' : 'No') },
    { key: 'reboot', header: 'Reboot', cell: (p) => label(p.reboot) },
    { key: 'excluded', header: 'Excluded devices', cell: (p) => String(p.excludedDeviceIds.length) },
    ...(canEdit ? [{
      key: 'actions', header: 'Actions', className: 'nowrap',
      cell: (p: Policy) => (
        <>
          <button type="button" className="secondary small" onClick={() => setDraft(draftOf(p))}>Edit</button>
          <button type="button" className="secondary small" disabled={remove.isPending} onClick={() => remove.mutate({ id: p.id })}>Delete</button>
        </>
      ),
    }] : []),
  ];

  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => (d ? { ...d, [key]: value } : d));
  return (
    <Card title="Patch policies">
      <p className="muted small">A device is under the most specific policy that reaches it: its tag's, then its group's, then its site's, then the organization's.
        A device excluded from a policy falls through to the next one.</p>
      <DataTable caption="Patch policies" testId="patch-policies" compact columns={columns} rows={policies.data} rowKey={(p) => p.id}
        empty={<Empty title="No policies: nothing is approved by rule" />} error={policies.error} onRetry={() => void policies.refetch()} />
      {canEdit && !draft ? <button type="button" onClick={() => setDraft(EMPTY)}>Add policy</button> : null}
      {canEdit && draft ? (
        <form className="row wrap align-end" onSubmit={submit} aria-label={draft.id ? 'Edit patch policy' : 'New patch policy'}>
          <label>Name<input maxLength={255} value={draft.name} onChange={(e) => set('name', e.target.value)} /></label>
          <label>
            Applies to
            <select aria-label="Scope" value={draft.scopeKind} onChange={(e) => setDraft((d) => (d ? { ...d, scopeKind: e.target.value as ScopeKind, scopeId: '' } : d))}>
              {SCOPE_KINDS.map((kind) => <option key={kind} value={kind}>{kind === 'organization' ? 'Whole organization' : label(kind)}</option>)}
            </select>
          </label>
          {draft.scopeKind !== 'organization' ? (
            <label>
              {label(draft.scopeKind)}
              <select aria-label={`Which ${draft.scopeKind}`} required value={draft.scopeId} onChange={(e) => set('scopeId', e.target.value)}>
                <option value="">Choose…</option>
                {targets[draft.scopeKind].map((target) => <option key={target.id} value={target.id}>{target.name}</option>)}
              </select>
            </label>
          ) : null}
          <fieldset>
            <legend>Approve classes</legend>
            {CLASSIFICATIONS.map((c) => (
              <label key={c} className="inline"><input type="checkbox" checked={draft.classifications.includes(c)} onChange={() => set('classifications', toggled(draft.classifications, c))} /> {label(c)}</label>
            ))}
          </fieldset>
          <fieldset>
            <legend>Approve severities</legend>
            {SEVERITIES.map((s) => (
              <label key={s} className="inline"><input type="checkbox" checked={draft.severities.includes(s)} onChange={() => set('severities', toggled(draft.severities, s))} /> {label(s)}</label>
            ))}
          </fieldset>
          <label>Approve packages (globs)<input value={draft.patterns} placeholder="openssl*, libssl*" onChange={(e) => set('patterns', e.target.value)} /></label>
          <label>Never approve (globs)<input value={draft.excludePatterns} onChange={(e) => set('excludePatterns', e.target.value)} /></label>
          <label className="inline"><input type="checkbox" checked={draft.autoApprove} onChange={(e) => set('autoApprove', e.target.checked)} /> Deploy approved updates automatically</label>
          <label>Defer days<input type="number" min={0} max={365} value={draft.deferralDays} onChange={(e) => set('deferralDays', e.target.value)} /></label>
          <label>Window (cron)<input value={draft.windowCron} placeholder="0 2 * * 6" maxLength={100} onChange={(e) => set('windowCron', e.target.value)} /></label>
          <label>Time zone<input value={draft.windowTz} maxLength={64} onChange={(e) => set('windowTz', e.target.value)} /></label>
          <label>Window minutes<input type="number" min={1} max={1440} value={draft.windowDurationMin} onChange={(e) => set('windowDurationMin', e.target.value)} /></label>
          <label>
            Reboot
            <select value={draft.reboot} onChange={(e) => set('reboot', e.target.value as Draft['reboot'])}>
              {REBOOTS.map((r) => <option key={r} value={r}>{label(r)}</option>)}
            </select>
          </label>
          <label>Notice minutes<input type="number" min={0} max={1440} value={draft.rebootNoticeMin} onChange={(e) => set('rebootNoticeMin', e.target.value)} /></label>
          <button type="submit" disabled={create.isPending || update.isPending}>{draft.id ? 'Save policy' : 'Add policy'}</button>
          <button type="button" className="secondary" onClick={() => setDraft(null)}>Cancel</button>
        </form>
      ) : null}
      {create.error || update.error || remove.error ? <ErrorNote error={create.error ?? update.error ?? remove.error} /> : null}
    </Card>
  );
}
