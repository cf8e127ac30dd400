import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Inputs, Outputs } from '../lib/trpc.ts';
import { trpc } from '../lib/trpc-query.ts';
import { label } from '../lib/format.ts';
import { Link } from '../lib/router.tsx';
import { Card, Empty, ErrorNote, PageHeader } from '../components/ui.tsx';
import { DataTable, type Column } from '../components/DataTable.tsx';

type Site = Outputs['fleet']['sites']['list'][number];
type Tag = Outputs['fleet']['tags']['list'][number];
type Field = Outputs['fleet']['fields']['list'][number];
type Group = Outputs['fleet']['groups']['list'][number];
type Condition = Inputs['fleet']['groups']['create']['filter']['conditions'][number];
const FIELD_TYPES = ['text', 'number', 'boolean', 'date', 'select'] as const;

/** After a change, the fleet's lists (and the counts beside them) are read again. */
function useRefresh() {
  const queryClient = useQueryClient();
  return () => void queryClient.invalidateQueries(trpc.fleet.pathFilter());
}

function Sites() {
  const refresh = useRefresh();
  const sites = useQuery(trpc.fleet.sites.list.queryOptions());
  const [name, setName] = useState('');
  const [address, setAddress] = useState('');
  const [timezone, setTimezone] = useState(Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
  const create = useMutation(trpc.fleet.sites.create.mutationOptions({ onSuccess: () => { setName(''); setAddress(''); refresh(); } }));
  const remove = useMutation(trpc.fleet.sites.delete.mutationOptions({ onSuccess: refresh }));
  const columns: Column<Site>[] = [
    { key: 'name', header: 'Site', sortValue: (s) => s.name, cell: (s) => s.name },
    { key: 'address', header: 'Address', cell: (s) => s.address || '—' },
    { key: 'timezone', header: 'Time zone', cell: (s) => s.timezone },
    { key: 'devices', header: 'Devices', numeric: true, sortValue: (s) => s.devices, cell: (s) => <Link to={`/devices?site=${s.id}`}>{s.devices}</Link> },
    { key: 'actions', header: 'Actions', headerHidden: true, cell: (s) => <button type="button" className="secondary small" onClick={() => remove.mutate({ id: s.id })}>Delete</button> },
  ];
  return (
    <Card title="Sites">
      <p className="muted">Where devices are: an office, a branch, a data centre. A device sits on one site at most; deleting a site leaves its devices on none.</p>
      <DataTable caption="Sites" columns={columns} rows={sites.data} rowKey={(s) => s.id} empty={<Empty title="No sites yet" />} error={sites.error} onRetry={() => void sites.refetch()} />
      <form className="row wrap align-end" aria-label="New site" onSubmit={(e: FormEvent) => { e.preventDefault(); create.mutate({ name: name.trim(), address: address.trim(), timezone }); }}>
        <label>Site name<input required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} /></label>
        <label>Address<input maxLength={1000} value={address} onChange={(e) => setAddress(e.target.value)} /></label>
        <label>Time zone<input required maxLength={64} value={timezone} onChange={(e) => setTimezone(e.target.value)} /></label>
        <button type="submit" disabled={create.isPending}>Add site</button>
      </form>
      {create.error ? <ErrorNote error={create.error} /> : null}
    </Card>
  );
}

function Tags() {
  const refresh = useRefresh();
  const tags = useQuery(trpc.fleet.tags.list.queryOptions());
  const [name, setName] = useState('');
  const create = useMutation(trpc.fleet.tags.create.mutationOptions({ onSuccess: () => { setName(''); refresh(); } }));
  const remove = useMutation(trpc.fleet.tags.delete.mutationOptions({ onSuccess: refresh }));
  const columns: Column<Tag>[] = [
    { key: 'name', header: 'Tag', sortValue: (t) => t.name, cell: (t) => <span className="badge">{t.name}</span> },
    { key: 'devices', header: 'Devices', numeric: true, sortValue: (t) => t.devices, cell: (t) => <Link to={`/devices?tag=${t.id}`}>{t.devices}</Link> },
    { key: 'actions', header: 'Actions', headerHidden: true, cell: (t) => <button type="button" className="secondary small" onClick={() => remove.mutate({ id: t.id })}>Delete</button> },
  ];
  return (
    <Card title="Tags">
      <DataTable caption="Tags" columns={columns} rows={tags.data} rowKey={(t) => t.id} empty={<Empty title="No tags yet" />} error={tags.error} onRetry={() => void tags.refetch()} />
      <form className="row wrap align-end" aria-label="New tag" onSubmit={(e: FormEvent) => { e.preventDefault(); create.mutate({ name: name.trim() }); }}>
        <label>Tag name<input required maxLength={64} value={name} onChange={(e) => setName(e.target.value)} /></label>
        <button type="submit" disabled={create.isPending}>Add tag</button>
      </form>
      {create.error ? <ErrorNote error={create.error} /> : null}
    </Card>
  );
}

function Fields() {
  const refresh = useRefresh();
  const fields = useQuery(trpc.fleet.fields.list.queryOptions());
  const [name, setName] = useState('');
  const [type, setType] = useState<(typeof FIELD_TYPES)[number]>('text');
  const [options, setOptions] = useState('');
  const [required, setRequired] = useState(false);
  const create = useMutation(trpc.fleet.fields.create.mutationOptions({ onSuccess: () => { setName(''); setOptions(''); refresh(); } }));
  const remove = useMutation(trpc.fleet.fields.delete.mutationOptions({ onSuccess: refresh }));
  const columns: Column<Field>[] = [
    { key: 'name', header: 'Field', sortValue: (f) => f.name, cell: (f) => f.name },
    { key: 'type', header: 'Type', cell: (f) => label(f.type) },
    { key: 'options', header: 'Choices', cell: (f) => f.options.join(', ') || '—' },
    { key: 'required', header: 'Required', cell: (f) => (f.required ? 'Yes' : 'No') },
    { key: 'actions', header: 'Actions', headerHidden: true, cell: (f) => <button type="button" className="secondary small" onClick={() => remove.mutate({ id: f.id })}>Delete</button> },
  ];
  return (
    <Card title="Custom fields">
      <p className="muted">What the agent cannot know: an owner, a rack, a purchase date. Values are checked against the field's type.</p>
      <DataTable caption="Custom fields" columns={columns} rows={fields.data} rowKey={(f) => f.id} empty={<Empty title="No custom fields yet" />} error={fields.error} onRetry={() => void fields.refetch()} />
      <form className="row wrap align-end" aria-label="New custom field" onSubmit={(e: FormEvent) => {
        e.preventDefault();
        create.mutate({ name: name.trim(), type, required, options: type === 'select' ? options.split(',').map((o) => o.trim()).filter(Boolean) : [] });
      }}>
        <label>Field name<input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} /></label>
        <label>Type
          <select value={type} onChange={(e) => setType(e.target.value as (typeof FIELD_TYPES)[number])}>
            {FIELD_TYPES.map((t) => <option key={t} value={t}>{label(t)}</option>)}
          </select>
        </label>
        {type === 'select' ? <label>Choices (comma-separated)<input required value={options} onChange={(e) => setOptions(e.target.value)} /></label> : null}
        <label className="inline"><input type="checkbox" checked={required} onChange={(e) => setRequired(e.target.checked)} /> Required</label>
        <button type="submit" disabled={create.isPending}>Add field</button>
      </form>
      {create.error ? <ErrorNote error={create.error} /> : null}
    </Card>
  );
}

/** One condition of the group form, in the words of a technician. */
function describe(condition: Condition, sites: Site[], tags: Tag[], fields: Field[]): string {
  switch (condition.kind) {
    case 'os': return `OS ${condition.op} "${condition.value}"`;
    case 'site': return `on site ${condition.siteId ? sites.find((s) => s.id === condition.siteId)?.name ?? '?' : '(none)'}`;
    case 'tag': return `tagged ${tags.find((t) => t.id === condition.tagId)?.name ?? '?'}`;
    case 'status': return `is ${condition.value}`;
    case 'field': return `${fields.find((f) => f.id === condition.fieldId)?.name ?? '?'} ${condition.op} ${String(condition.value)}`;
  }
}

function ConditionForm({ sites, tags, fields, onAdd }: { sites: Site[]; tags: Tag[]; fields: Field[]; onAdd: (c: Condition) => void }) {
  const [kind, setKind] = useState<Condition['kind']>('os');
  const [op, setOp] = useState<'equals' | 'contains' | '<' | '>'>('equals');
  const [value, setValue] = useState('');
  const [ref, setRef] = useState('');
  const field = fields.find((f) => f.id === ref);
  const build = (): Condition | null => {
    switch (kind) {
      case 'os': return value.trim() ? { kind, op: op === 'contains' ? 'contains' : 'equals', value: value.trim() } : null;
      case 'site': return { kind, op: 'equals', siteId: ref || null };
      case 'tag': return ref ? { kind, op: 'has', tagId: ref } : null;
      case 'status': return { kind, op: 'equals', value: value === 'offline' ? 'offline' : 'online' };
      case 'field': {
        if (!field) return null;
        const typed = field.type === 'number' ? Number(value) : field.type === 'boolean' ? value === 'true' : value;
        return { kind, fieldId: field.id, op, value: typed };
      }
    }
  };
  return (
    <div className="row wrap align-end" role="group" aria-label="New condition">
      <label>Match on
        <select value={kind} onChange={(e) => { setKind(e.target.value as Condition['kind']); setRef(''); setValue(''); }}>
          <option value="os">OS</option><option value="site">Site</option><option value="tag">Tag</option><option value="status">Status</option><option value="field">Custom field</option>
        </select>
      </label>
      {kind === 'site' || kind === 'tag' || kind === 'field' ? (
        <label>{label(kind)}
          <select value={ref} onChange={(e) => setRef(e.target.value)}>
            <option value="">{kind === 'site' ? '(no site)' : 'Choose…'}</option>
            {(kind === 'site' ? sites : kind === 'tag' ? tags : fields).map((item) => <option key={item.id} value={item.id}>{item.name}</option>)}
          </select>
        </label>
      ) : null}
      {kind === 'os' || kind === 'field' ? (
        <label>Compare
          <select value={op} onChange={(e) => setOp(e.target.value as typeof op)}>
            <option value="equals">equals</option><option value="contains">contains</option>
            {kind === 'field' ? <><option value="<">below</option><option value=">">above</option></> : null}
          </select>
        </label>
      ) : null}
      {kind === 'status' ? (
        <label>Status<select value={value || 'online'} onChange={(e) => setValue(e.target.value)}><option value="online">Online</option><option value="offline">Offline</option></select></label>
      ) : kind === 'os' || kind === 'field' ? (
        <label>Value<input type={field?.type === 'number' ? 'number' : field?.type === 'date' ? 'date' : 'text'} value={value} onChange={(e) => setValue(e.target.value)} /></label>
      ) : null}
      <button type="button" className="secondary" onClick={() => { const c = build(); if (c) onAdd(c); }}>Add condition</button>
    </div>
  );
}

function Groups() {
  const refresh = useRefresh();
  const groups = useQuery(trpc.fleet.groups.list.queryOptions());
  const sites = useQuery(trpc.fleet.sites.list.queryOptions()).data ?? [];
  const tags = useQuery(trpc.fleet.tags.list.queryOptions()).data ?? [];
  const fields = useQuery(trpc.fleet.fields.list.queryOptions()).data ?? [];
  const [name, setName] = useState('');
  const [match, setMatch] = useState<'all' | 'any'>('all');
  const [conditions, setConditions] = useState<Condition[]>([]);
  const create = useMutation(trpc.fleet.groups.create.mutationOptions({ onSuccess: () => { setName(''); setConditions([]); refresh(); } }));
  const remove = useMutation(trpc.fleet.groups.delete.mutationOptions({ onSuccess: refresh }));
  const columns: Column<Group>[] = [
    { key: 'name', header: 'Group', sortValue: (g) => g.name, cell: (g) => g.name },
    { key: 'filter', header: 'Devices that', cell: (g) => g.filter.conditions.map((c) => describe(c, sites, tags, fields)).join(g.filter.match === 'all' ? ' and ' : ' or ') || 'every device' },
    { key: 'devices', header: 'Devices now', numeric: true, sortValue: (g) => g.devices, cell: (g) => <Link to={`/devices?group=${g.id}`}>{g.devices}</Link> },
    { key: 'actions', header: 'Actions', headerHidden: true, cell: (g) => <button type="button" className="secondary small" onClick={() => remove.mutate({ id: g.id })}>Delete</button> },
  ];
  return (
    <Card title="Groups">
      <p className="muted">A group is a saved filter: devices join and leave it as their OS, site, tags, fields or status change.</p>
      <DataTable caption="Groups" columns={columns} rows={groups.data} rowKey={(g) => g.id} empty={<Empty title="No groups yet" />} error={groups.error} onRetry={() => void groups.refetch()} />
      <form aria-label="New group" onSubmit={(e: FormEvent) => { e.preventDefault(); create.mutate({ name: name.trim(), filter: { match, conditions } }); }}>
        <div className="row wrap align-end">
          <label>Group name<input required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} /></label>
          <label>Devices matching
            <select value={match} onChange={(e) => setMatch(e.target.value as 'all' | 'any')}><option value="all">every condition</option><option value="any">any condition</option></select>
          </label>
        </div>
        <ul aria-label="Conditions">
          {conditions.map((c, i) => (
            <li key={i}>{describe(c, sites, tags, fields)} <button type="button" className="secondary small" onClick={() => setConditions((now) => now.filter((_, j) => j !== i))}>Remove</button></li>
          ))}
        </ul>
        <ConditionForm sites={sites} tags={tags} fields={fields} onAdd={(c) => setConditions((now) => [...now, c].slice(0, 20))} />
        <button type="submit" disabled={create.isPending}>Save group</button>
      </form>
      {create.error ? <ErrorNote error={create.error} /> : null}
    </Card>
  );
}

/** How the fleet is organised: sites, tags, custom fields and saved groups. */
export function FleetStructurePage() {
  const [tab, setTab] = useState<'sites' | 'tags' | 'fields' | 'groups'>('sites');
  const tabs = [['sites', 'Sites'], ['tags', 'Tags'], ['fields', 'Custom fields'], ['groups', 'Groups']] as const;
  return (
    <>
      <PageHeader title="Fleet structure" />
      <div role="tablist" className="row">
        {tabs.map(([key, text]) => (
          <button key={key} type="button" role="tab" aria-selected={tab === key} className={tab === key ? '' : 'secondary'} onClick={() => setTab(key)}>{text}</button>
        ))}
      </div>
      {tab === 'sites' ? <Sites /> : tab === 'tags' ? <Tags /> : tab === 'fields' ? <Fields /> : <Groups />}
    </>
  );
}
