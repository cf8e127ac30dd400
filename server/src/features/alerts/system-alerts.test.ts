import { describe, expect, it } from 'vitest';
import { queryShape } from './system-alerts.ts';

describe('a slow query as the System page shows it', () => {
  it('replaces the call\'s ids and times, and leaves a SQL shape as it is', () => {
    expect(queryShape('hourly(2026-12-01T00:00:00.000Z..2026-12-02T00:00:00.000Z)')).toBe('hourly(<time>..<time>)');
    expect(queryShape('series(device=3F2504E0-4F89-41D3-9A0C-0305E82C3301, range=24h)')).toBe('series(device=<id>, range=24h)');
    expect(queryShape('PUBLISH command:6b277327-9971-4a69-a3ba-d4d349768599:output')).toBe('PUBLISH command:<id>:output');
    expect(queryShape('audit_log.find({"since":"2026-12-05T00:06:28+01:00","limit":50})')).toBe('audit_log.find({"since":"<time>","limit":50})');
    const sql = 'SELECT id FROM devices WHERE organization_id = $1 AND last_seen < $2 LIMIT 100';
    expect(queryShape(sql)).toBe(sql);
  });
});
