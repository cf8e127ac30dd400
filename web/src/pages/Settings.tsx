import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Outputs } from '../lib/trpc.ts';
import { trpc } from '../lib/trpc-query.ts';
import { Card, ErrorNote, PageHeader, QueryView } from '../components/ui.tsx';

type Settings = Outputs['settings']['organization']['settings'];

/** The form's text fields; empty means "not set" (for a device: its organization's value applies). */
interface Draft { agentIntervalSeconds: string; offlineThresholdMinutes: string; timezone: string; contactName: string; contactEmail: string; contactPhone: string }

const toDraft = (settings: Settings): Draft => ({
  agentIntervalSeconds: settings.agentIntervalSeconds?.toString() ?? '',
  offlineThresholdMinutes: settings.offlineThresholdMinutes?.toString() ?? '',
  timezone: settings.timezone ?? '',
  contactName: settings.maintenanceContact?.name ?? '',
  contactEmail: settings.maintenanceContact?.email ?? '',
  contactPhone: settings.maintenanceContact?.phone ?? '',
});

function fromDraft(draft: Draft): Settings {
  const settings: Settings = {};
  if (draft.agentIntervalSeconds.trim()) settings.agentIntervalSeconds = Number(draft.agentIntervalSeconds);
  if (draft.offlineThresholdMinutes.trim()) settings.offlineThresholdMinutes = Number(draft.offlineThresholdMinutes);
  if (draft.timezone.trim()) settings.timezone = draft.timezone.trim();
  if (draft.contactName.trim()) {
    settings.maintenanceContact = {
      name: draft.contactName.trim(),
      ...(draft.contactEmail.trim() ? { email: draft.contactEmail.trim() } : {}),
      ...(draft.contactPhone.trim() ? { phone: draft.contactPhone.trim() } : {}),
    };
  }
  return settings;
}

/** The settings form, for an organization or one device. */
function SettingsForm({ settings, canEdit, saving, error, onSave, inherited }: {
  settings: Settings; canEdit: boolean; saving: boolean; error: unknown; onSave: (settings: Settings) => void; inherited?: Settings;
}) {
  const [draft, setDraft] = useState(() => toDraft(settings));
  useEffect(() => setDraft(toDraft(settings)), [settings]);
  const field = (key: keyof Draft, text: string, props: Record<string, unknown> = {}, hint?: string | number) => (
    <label>
      {text}
      <input value={draft[key]} disabled={!canEdit} placeholder={hint === undefined ? '' : `${hint} (organization)`} onChange={(e) => setDraft({ ...draft, [key]: e.target.value })} {...props} />
    </label>
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSave(fromDraft(draft));
  };
  return (
    <form className="row wrap align-end" onSubmit={submit} aria-label="Settings">
      {field('agentIntervalSeconds', 'Agent check-in every (seconds)', { type: 'number', min: 5, max: 3600, className: 'narrow' }, inherited?.agentIntervalSeconds)}
      {field('offlineThresholdMinutes', 'Offline after (minutes quiet)', { type: 'number', min: 1, max: 10080, className: 'narrow' }, inherited?.offlineThresholdMinutes)}
      {field('timezone', 'Time zone', { maxLength: 64, list: 'time-zones' }, inherited?.timezone)}
      {field('contactName', 'Maintenance contact', { maxLength: 200 }, inherited?.maintenanceContact?.name)}
      {field('contactEmail', 'Contact email', { type: 'email', maxLength: 255 })}
      {field('contactPhone', 'Contact phone', { type: 'tel', maxLength: 40 })}
      <datalist id="time-zones">
        {Intl.supportedValuesOf('timeZone').map((zone) => <option key={zone} value={zone} />)}
      </datalist>
      {canEdit ? <button type="submit" disabled={saving}>{saving ? 'Saving…' : 'Save settings'}</button> : null}
      {error ? <ErrorNote error={error} /> : null}
    </form>
  );
}

/** The organization's settings: every device gets them unless it has its own. */
export function SettingsPage({ canEdit }: { canEdit: boolean }) {
  const queryClient = useQueryClient();
  const settings = useQuery(trpc.settings.organization.queryOptions());
  const save = useMutation(trpc.settings.setOrganization.mutationOptions({ onSuccess: () => void queryClient.invalidateQueries(trpc.settings.pathFilter()) }));
  return (
    <>
      <PageHeader title="Organization settings" />
      <Card title="Defaults for every device">
        <p className="small muted">A device's own settings (on its page) win over these. Leave a field empty to use the server's default.</p>
        <QueryView query={settings}>
          {(data) => <SettingsForm settings={data.settings} canEdit={canEdit} saving={save.isPending} error={save.error} onSave={(next) => save.mutate({ settings: next })} />}
        </QueryView>
      </Card>
    </>
  );
}

/** A device's own settings, on its page; empty fields show what its organization sets. */
export function DeviceSettingsSection({ deviceId, canEdit }: { deviceId: string; canEdit: boolean }) {
  const queryClient = useQueryClient();
  const settings = useQuery(trpc.settings.device.queryOptions({ deviceId }));
  const organization = useQuery(trpc.settings.organization.queryOptions());
  const save = useMutation(trpc.settings.setDevice.mutationOptions({ onSuccess: () => void queryClient.invalidateQueries(trpc.settings.pathFilter()) }));
  return (
    <Card title="Settings">
      <QueryView query={settings}>
        {(data) => (
          <SettingsForm
            settings={data.settings}
            inherited={organization.data?.settings ?? {}}
            canEdit={canEdit}
            saving={save.isPending}
            error={save.error}
            onSave={(next) => save.mutate({ deviceId, settings: next })}
          />
        )}
      </QueryView>
    </Card>
  );
}
