import { foundation } from './001-foundation.ts';
import { ingest } from './002-ingest.ts';
import { tickets } from './003-tickets.ts';
import { documents } from './004-documents.ts';
import { commands } from './005-commands.ts';
import { ingestJson } from './006-ingest-json.ts';
import { deviceList } from './007-device-list.ts';
import { ingestQuarantine } from './008-ingest-quarantine.ts';
import { deviceApproval } from './009-device-approval.ts';
import { sessions } from './011-sessions.ts';
import { credentialRefusals } from './012-credential-refusals.ts';
import { people } from './013-people.ts';
import { alerts } from './014-alerts.ts';
import { apiKeys } from './015-api-keys.ts';
import { twoFactor } from './016-two-factor.ts';
import { patching } from './017-patching.ts';
import { remoteAccess } from './018-remote-access.ts';
import { contracts } from './019-contracts.ts';
import { settingsAssets } from './020-settings-assets.ts';
import { sso } from './021-sso.ts';
import { providers } from './022-providers.ts';
import { eventWebhooks } from './023-event-webhooks.ts';
import { systemAlerts } from './024-system-alerts.ts';
import { fleet } from './025-fleet.ts';
import { scripts } from './026-scripts.ts';
import { sealedSecrets } from './027-sealed-secrets.ts';
import { scriptChecks } from './028-script-checks.ts';
import { patchPolicyScopes } from './029-patch-policy-scopes.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Append only: a released migration is never edited. */
export const migrations: readonly Migration[] = [
  { version: 1, name: 'foundation', sql: foundation },
  { version: 2, name: 'ingest', sql: ingest },
  { version: 3, name: 'tickets', sql: tickets },
  { version: 4, name: 'documents', sql: documents },
  { version: 5, name: 'commands', sql: commands },
  { version: 6, name: 'ingest-json', sql: ingestJson },
  { version: 7, name: 'device-list', sql: deviceList },
  { version: 8, name: 'ingest-quarantine', sql: ingestQuarantine },
  { version: 9, name: 'device-approval', sql: deviceApproval },
  // Version 10 was never released (work landed in parallel); versions need not be contiguous.
  { version: 11, name: 'sessions', sql: sessions },
  { version: 12, name: 'credential-refusals-and-device-tickets', sql: credentialRefusals },
  { version: 13, name: 'people', sql: people },
  { version: 14, name: 'alerts', sql: alerts },
  { version: 15, name: 'api-keys', sql: apiKeys },
  { version: 16, name: 'two-factor', sql: twoFactor },
  { version: 17, name: 'patching', sql: patching },
  { version: 18, name: 'remote-access', sql: remoteAccess },
  { version: 19, name: 'contracts', sql: contracts },
  { version: 20, name: 'settings-assets', sql: settingsAssets },
  { version: 21, name: 'sso', sql: sso },
  { version: 22, name: 'providers', sql: providers },
  { version: 23, name: 'event-webhooks', sql: eventWebhooks },
  { version: 24, name: 'system-alerts', sql: systemAlerts },
  { version: 25, name: 'fleet', sql: fleet },
  { version: 26, name: 'scripts', sql: scripts },
  { version: 27, name: 'sealed-secrets', sql: sealedSecrets },
  { version: 28, name: 'script-checks', sql: scriptChecks },
  { version: 29, name: 'patch-policy-scopes', sql: patchPolicyScopes },
];
