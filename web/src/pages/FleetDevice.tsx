import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Outputs } from '../lib/trpc.ts';
import { trpc } from '../lib/trpc-query.ts';
import { Card, ErrorNote, Spinner } from '../components/ui.tsx';
import { Link } from '../lib/router.tsx';

type Field = Outputs['fleet']['fields']['list'][number];
type Value = string | number | boolean | null;

/** A form input's text as the field's type; empty clears the value. */
function typedValue(field: Field, text: string): Value {
  if (text === '') return null;
  if (field.type === 'number') return Number(text);
  if (field.type === 'boolean') return text === 'true';
  return text;
}

/** A device's site, tags and custom values: technicians see them, admins change them. */
export function DeviceStructure({ deviceId, canEdit }: { deviceId: string; canEdit: boolean }) {
  const queryClient = useQueryClient();
  const place = useQuery(trpc.fleet.device.get.queryOptions({ deviceId }));
  const sites = useQuery(trpc.fleet.sites.list.queryOptions());
  const tags = useQuery(trpc.fleet.tags.list.queryOptions());
  const fields = useQuery(trpc.fleet.fields.list.queryOptions());
  const refresh = () => void queryClient.invalidateQueries(trpc.fleet.pathFilter());
  const setSite = useMutation(trpc.fleet.device.setSite.mutationOptions({ onSuccess: refresh }));
  const setTags = useMutation(trpc.fleet.device.setTags.mutationOptions({ onSuccess: refresh }));
  const setFields = useMutation(trpc.fleet.device.setFields.mutationOptions({ onSuccess: refresh }));
  const [draft, setDraft] = useState<Record<string, string>>({});
  if (!place.data || !sites.data || !tags.data || !fields.data) return place.error ? <ErrorNote error={place.error} /> : <Spinner />;
  const current = new Map(place.data.fields.map((f) => [f.fieldId, f.value]));
  const chosen = new Set(place.data.tags.map((t) => t.id));
  const error = setSite.error ?? setTags.error ?? setFields.error;
  const saveFields = (event: FormEvent) => {
    event.preventDefault();
    const values = Object.fromEntries(Object.entries(draft).map(([id, text]) => [id, typedValue(fields.data.find((f) => f.id === id)!, text)]));
    setFields.mutate({ deviceId, values }, { onSuccess: () => setDraft({}) });
  };
  return (
    <Card title="Site, tags and fields">
      <div className="row wrap align-end">
        <label>
          Site
          <select disabled={!canEdit} value={place.data.siteId ?? ''} onChange={(e) => setSite.mutate({ deviceId, siteId: e.target.value || null })}>
            <option value="">(no site)</option>
            {sites.data.map((site) => <option key={site.id} value={site.id}>{site.name}</option>)}
          </select>
        </label>
        <fieldset aria-label="Tags">
          <legend>Tags</legend>
          {tags.data.length === 0 ? <span className="muted">No tags yet: <Link to="/fleet">create some</Link>.</span> : tags.data.map((tag) => (
            <label key={tag.id} className="inline">
              <input
                type="checkbox" disabled={!canEdit} checked={chosen.has(tag.id)}
                onChange={() => setTags.mutate({ deviceId, tagIds: chosen.has(tag.id) ? [...chosen].filter((id) => id !== tag.id) : [...chosen, tag.id] })}
              /> {tag.name}
            </label>
          ))}
        </fieldset>
      </div>
      {fields.data.length > 0 ? (
        <form className="row wrap align-end" aria-label="Custom fields" onSubmit={saveFields}>
          {fields.data.map((field) => {
            const shown = draft[field.id] ?? (current.has(field.id) ? String(current.get(field.id)) : '');
            const change = (text: string) => setDraft((now) => ({ ...now, [field.id]: text }));
            return (
              <label key={field.id}>
                {field.name}{field.required ? ' *' : ''}
                {field.type === 'boolean' || field.type === 'select' ? (
                  <select disabled={!canEdit} value={shown} onChange={(e) => change(e.target.value)}>
                    <option value="">—</option>
                    {(field.type === 'boolean' ? ['true', 'false'] : field.options).map((option) => <option key={option} value={option}>{option === 'true' ? 'Yes' : option === 'false' ? 'No' : option}</option>)}
                  </select>
                ) : (
                  <input disabled={!canEdit} type={field.type === 'number' ? 'number' : field.type === 'date' ? 'date' : 'text'} value={shown} maxLength={2000} onChange={(e) => change(e.target.value)} />
                )}
              </label>
            );
          })}
          {canEdit ? <button type="submit" disabled={setFields.isPending || Object.keys(draft).length === 0}>Save fields</button> : null}
        </form>
      ) : null}
      {error ? <ErrorNote error={error} /> : null}
    </Card>
  );
}
