// Generated from the migrations by `npm run db:types`: do not edit; change a migration and regenerate.
// scripts/relational-schema/schema.test.ts fails when this file and the migrations disagree.
import type { ColumnType } from 'kysely';

/** Read as Date; written as a Date or an ISO string. */
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** Read as parsed JSON; written as JSON text (JSON.stringify), as the SQL casts expect. */
export type Json = ColumnType<unknown, string, string>;
/** PostgreSQL numeric: text from node-postgres, to keep its precision. */
export type Numeric = ColumnType<string, string | number, string | number>;
/** A column with a default: optional on insert. */
export type Default<T> = T extends ColumnType<infer S, infer I, infer U> ? ColumnType<S, I | undefined, U> : ColumnType<T, T | undefined, T>;

export interface AlertConditionStateTable {
  ruleId: string;
  deviceId: string;
  subject: Default<string>;
  breachingSince: Timestamp | null;
  firing: Default<boolean>;
  lastCounter: number | null;
  lastAt: Timestamp | null;
  lastLogId: Default<number>;
}

export interface AlertEventLogTable {
  id: Default<number>;
  alertId: string;
  organizationId: string;
  deviceId: string;
  ruleId: string;
  eventType: string;
  severity: string;
  actorId: string | null;
  createdAt: Default<Timestamp>;
}

export interface AlertExclusionsTable {
  ruleId: string;
  deviceId: string;
}

export interface AlertRulesTable {
  id: Default<string>;
  organizationId: string;
  name: string;
  scopeKind: Default<string>;
  scopeValue: string | null;
  condition: Json;
  severity: Default<string>;
  channelIds: Default<string[]>;
  openTicket: Default<boolean>;
  closeTicketOnResolve: Default<boolean>;
  enabled: Default<boolean>;
  createdAt: Default<Timestamp>;
  updatedAt: Default<Timestamp>;
  remediationScriptId: string | null;
  nextCheckAt: Timestamp | null;
}

export interface AlertScriptChecksTable {
  ruleId: string;
  deviceId: string;
  commandId: string | null;
  startedAt: Default<Timestamp>;
}

export interface AlertsTable {
  id: Default<string>;
  organizationId: string;
  ruleId: string;
  deviceId: string;
  subject: Default<string>;
  dedupeKey: string;
  state: string;
  severity: string;
  title: string;
  value: number | null;
  muted: Default<boolean>;
  flapping: Default<boolean>;
  ticketId: string | null;
  ticketClosed: Default<boolean>;
  openedAt: Default<Timestamp>;
  acknowledgedAt: Timestamp | null;
  acknowledgedBy: string | null;
  resolvedAt: Timestamp | null;
  resolvedBy: string | null;
  resolution: string | null;
  remediationState: string | null;
  remediationCommandId: string | null;
  remediationExitCode: number | null;
  remediationError: string | null;
  remediationAt: Timestamp | null;
  checkExitCode: number | null;
  checkOutput: string | null;
  checkAt: Timestamp | null;
}

export interface AnalyticsCursorsTable {
  name: string;
  position: Default<number>;
  updatedAt: Default<Timestamp>;
}

export interface ApiKeysTable {
  id: Default<string>;
  organizationId: string;
  createdBy: string;
  name: string;
  keyHash: string;
  keyPrefix: string;
  scopes: string[];
  expiresAt: Timestamp | null;
  lastUsedAt: Timestamp | null;
  lastUsedIp: string | null;
  revokedAt: Timestamp | null;
  createdAt: Default<Timestamp>;
}

export interface AssetsTable {
  id: Default<string>;
  organizationId: string;
  name: string;
  kind: string;
  serial: string | null;
  manufacturer: string | null;
  model: string | null;
  purchaseDate: Timestamp | null;
  warrantyEnd: Timestamp | null;
  assignee: string | null;
  location: string | null;
  notes: string | null;
  deviceId: string | null;
  createdAt: Default<Timestamp>;
  updatedAt: Default<Timestamp>;
}

export interface AuditLogTable {
  id: string;
  ts: Timestamp;
  organizationId: string;
  userId: string | null;
  action: string;
  resourceId: string | null;
  doc: Json;
}

export interface BulkJobTargetsTable {
  jobId: string;
  deviceId: string;
  status: Default<string>;
  attempts: Default<number>;
  commandId: string | null;
  exitCode: number | null;
  error: string | null;
  updatedAt: Default<Timestamp>;
}

export interface BulkJobsTable {
  id: Default<string>;
  organizationId: string;
  requestedBy: string | null;
  requestedByLabel: string;
  name: string;
  shell: string;
  interpreter: string | null;
  script: string;
  timeoutSec: number;
  expiresInSec: number;
  concurrency: number;
  maxAttempts: number;
  status: Default<string>;
  total: number;
  createdAt: Default<Timestamp>;
  finishedAt: Timestamp | null;
  env: Json | null;
}

export interface CommandOutputTable {
  commandId: string;
  seq: number;
  stream: string;
  data: string;
  receivedAt: Default<Timestamp>;
}

export interface CommandsTable {
  id: Default<string>;
  organizationId: string;
  deviceId: string;
  requestedBy: string | null;
  requestedByLabel: string;
  bulkJobId: string | null;
  shell: string;
  interpreter: string | null;
  script: string;
  timeoutSec: number;
  status: Default<string>;
  exitCode: number | null;
  error: string | null;
  outputBytes: Default<number>;
  outputTruncated: Default<boolean>;
  deliveryCount: Default<number>;
  createdAt: Default<Timestamp>;
  expiresAt: Timestamp;
  sentAt: Timestamp | null;
  startedAt: Timestamp | null;
  finishedAt: Timestamp | null;
  cancelRequestedAt: Timestamp | null;
  sourceIp: string | null;
  env: Json | null;
}

export interface ContractsTable {
  id: Default<string>;
  organizationId: string;
  pricePerDevice: Numeric;
  pricePerApiCall: Numeric;
  pricePerGb: Numeric;
  currency: string;
  startsOn: Timestamp;
  endsOn: Timestamp | null;
  createdAt: Default<Timestamp>;
  createdBy: string | null;
}

export interface CustomFieldsTable {
  id: Default<string>;
  organizationId: string;
  name: string;
  type: string;
  options: Default<Json>;
  required: Default<boolean>;
  createdAt: Default<Timestamp>;
}

export interface DeviceCredentialsTable {
  deviceId: string;
  secretHash: string;
  createdAt: Default<Timestamp>;
}

export interface DeviceFieldValuesTable {
  organizationId: string;
  deviceId: string;
  fieldId: string;
  valueText: string | null;
  valueNumber: number | null;
  valueBoolean: boolean | null;
  valueDate: Timestamp | null;
  updatedAt: Default<Timestamp>;
}

export interface DeviceGroupsTable {
  id: Default<string>;
  organizationId: string;
  name: string;
  description: Default<string>;
  filter: Json;
  createdAt: Default<Timestamp>;
  updatedAt: Default<Timestamp>;
}

export interface DeviceIngestStateTable {
  deviceId: string;
  lastSeq: Default<number>;
}

export interface DeviceInventoryStateTable {
  deviceId: string;
  snapshotHash: string;
  rebootPending: Default<boolean>;
  lastPatchedAt: Timestamp | null;
  reportedAt: Default<Timestamp>;
}

export interface DeviceServicesTable {
  deviceId: string;
  key: string;
  name: string;
  displayName: string;
  state: string;
  startMode: string;
}

export interface DeviceSettingsTable {
  deviceId: string;
  organizationId: string;
  settings: Default<Json>;
  updatedAt: Default<Timestamp>;
  updatedBy: string | null;
}

export interface DeviceSoftwareTable {
  deviceId: string;
  organizationId: string;
  key: string;
  name: string;
  version: string;
  arch: string;
  publisher: string;
  source: string;
  installedAt: Timestamp | null;
}

export interface DeviceTagsTable {
  organizationId: string;
  deviceId: string;
  tagId: string;
}

export interface DeviceUpdatesTable {
  deviceId: string;
  organizationId: string;
  key: string;
  name: string;
  currentVersion: string;
  availableVersion: string;
  source: string;
  classification: string;
  severity: string;
  detail: string;
  firstSeenAt: Default<Timestamp>;
}

export interface DevicesTable {
  id: Default<string>;
  name: string;
  organizationId: string | null;
  status: string;
  osType: string | null;
  osVersion: string | null;
  ipAddress: string | null;
  lastSeen: Timestamp | null;
  createdAt: Default<Timestamp | null>;
  machineKey: string | null;
  inventory: Json | null;
  agentVersion: string | null;
  reportIntervalMs: Default<number>;
  droppedTotal: Default<number>;
  decommissionedAt: Timestamp | null;
  approvalState: Default<string>;
  pendingReason: string | null;
  claimsDeviceId: string | null;
  replacedDeviceId: string | null;
  credentialsRefusedSince: Timestamp | null;
  credentialsRefusedAt: Timestamp | null;
  credentialsRefusedFrom: string | null;
  siteId: string | null;
}

export interface DrainCursorsTable {
  sink: string;
  position: Default<number>;
  owner: string | null;
  leaseUntil: Timestamp | null;
  updatedAt: Default<Timestamp>;
}

export interface EnrollmentTokensTable {
  id: Default<string>;
  organizationId: string;
  tokenHash: string;
  name: string;
  expiresAt: Timestamp;
  maxUses: number;
  uses: Default<number>;
  revokedAt: Timestamp | null;
  createdBy: string | null;
  createdAt: Default<Timestamp>;
}

export interface IngestLogTable {
  id: Default<number>;
  deviceId: string;
  organizationId: string;
  seq: number;
  kind: string;
  collectedAt: Timestamp;
  receivedAt: Default<Timestamp>;
  sourceIp: string | null;
  payload: Json;
}

export interface IngestQuarantineTable {
  id: Default<number>;
  sink: string;
  logId: number | null;
  deviceId: string;
  organizationId: string;
  seq: number;
  kind: string;
  collectedAtMs: number | null;
  reason: string;
  payload: Json;
  quarantinedAt: Default<Timestamp>;
}

export interface JobLeasesTable {
  name: string;
  owner: string;
  leaseUntil: Timestamp;
}

export interface LogsTable {
  id: string;
  ts: Timestamp;
  level: string;
  organizationId: string | null;
  deviceId: string | null;
  doc: Json;
}

export interface MaintenanceWindowsTable {
  id: Default<string>;
  organizationId: string;
  deviceId: string | null;
  startsAt: Timestamp;
  endsAt: Timestamp;
  reason: Default<string>;
  createdBy: string | null;
  createdAt: Default<Timestamp>;
}

export interface MembershipsTable {
  userId: string;
  organizationId: string;
  role: string;
  createdAt: Default<Timestamp>;
}

export interface NotificationChannelsTable {
  id: Default<string>;
  organizationId: string;
  name: string;
  kind: string;
  target: string;
  signingSecret: string | null;
  minSeverity: Default<string>;
  consecutiveFailures: Default<number>;
  lastSuccessAt: Timestamp | null;
  lastError: string | null;
  lastErrorAt: Timestamp | null;
  lastDigestAt: Timestamp | null;
  createdAt: Default<Timestamp>;
}

export interface NotificationDeliveriesTable {
  id: Default<number>;
  outboxId: number;
  channelId: string | null;
  organizationId: string;
  attempt: number;
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  messages: Default<number>;
  durationMs: number;
  createdAt: Default<Timestamp>;
  subscriptionId: string | null;
}

export interface NotificationOutboxTable {
  id: Default<number>;
  channelId: string | null;
  organizationId: string;
  idempotencyKey: string;
  alertId: string | null;
  payload: Json;
  state: Default<string>;
  attempts: Default<number>;
  nextAttemptAt: Default<Timestamp>;
  leaseOwner: string | null;
  leaseUntil: Timestamp | null;
  sentAt: Timestamp | null;
  digestId: number | null;
  lastError: string | null;
  createdAt: Default<Timestamp>;
  subscriptionId: string | null;
  eventId: string | null;
  eventType: string | null;
}

export interface OidcLoginsTable {
  stateHash: string;
  organizationId: string;
  nonce: string;
  codeVerifier: string;
  expiresAt: Timestamp;
}

export interface OrganizationSettingsTable {
  organizationId: string;
  settings: Default<Json>;
  updatedAt: Default<Timestamp>;
  updatedBy: string | null;
}

export interface OrganizationSsoTable {
  organizationId: string;
  issuer: string;
  clientId: string;
  clientSecret: string | null;
  emailDomain: string | null;
  roleClaim: Default<string>;
  roleRules: Default<Json>;
  ssoOnly: Default<boolean>;
  countsAsTwoFactor: Default<boolean>;
  updatedAt: Default<Timestamp>;
  clientSecretSealed: string | null;
}

export interface OrganizationsTable {
  id: Default<string>;
  name: string;
  createdAt: Default<Timestamp>;
  updatedAt: Default<Timestamp>;
  requireTwoFactor: Default<boolean>;
  isProvider: Default<boolean>;
  providerId: string | null;
}

export interface PasswordResetsTable {
  tokenHash: string;
  userId: string;
  expiresAt: Timestamp;
  usedAt: Timestamp | null;
  createdAt: Default<Timestamp>;
}

export interface PatchApprovalsTable {
  organizationId: string;
  name: string;
  approvedByLabel: string;
  approvedAt: Default<Timestamp>;
}

export interface PatchDeploymentsTable {
  id: Default<string>;
  organizationId: string;
  deviceId: string;
  patches: Json;
  status: Default<string>;
  notBefore: Default<Timestamp>;
  windowEndsAt: Timestamp | null;
  attempts: Default<number>;
  maxAttempts: Default<number>;
  results: Default<Json>;
  progress: Default<string>;
  error: string | null;
  requestedByLabel: string;
  createdAt: Default<Timestamp>;
  updatedAt: Default<Timestamp>;
  finishedAt: Timestamp | null;
}

export interface PatchPoliciesTable {
  id: Default<string>;
  organizationId: string;
  name: string;
  approveClassifications: Default<string[]>;
  approveSeverities: Default<string[]>;
  approveNamePatterns: Default<string[]>;
  excludeNamePatterns: Default<string[]>;
  autoApprove: Default<boolean>;
  deferralDays: Default<number>;
  windowCron: string | null;
  windowTz: Default<string>;
  windowDurationMin: Default<number>;
  reboot: Default<string>;
  rebootNoticeMin: Default<number>;
  createdAt: Default<Timestamp>;
  updatedAt: Default<Timestamp>;
  scopeKind: Default<string>;
  scopeValue: string | null;
}

export interface PatchPolicyExclusionsTable {
  policyId: string;
  organizationId: string;
  deviceId: string;
}

export interface RecoveryCodesTable {
  userId: string;
  codeHash: string;
  usedAt: Timestamp | null;
  createdAt: Default<Timestamp>;
}

export interface ScriptRunsTable {
  id: Default<string>;
  organizationId: string;
  scriptId: string;
  version: number;
  trigger: string;
  scheduleId: string | null;
  bulkJobId: string | null;
  commandId: string | null;
  alertId: string | null;
  parameters: Default<Json>;
  requestedByLabel: string;
  error: string | null;
  createdAt: Default<Timestamp>;
}

export interface ScriptSchedulesTable {
  id: Default<string>;
  organizationId: string;
  scriptId: string;
  name: string;
  cron: string;
  timezone: string;
  targetKind: string;
  targetValue: string | null;
  deviceIds: Default<string[]>;
  parameters: Default<Json>;
  enabled: Default<boolean>;
  nextRunAt: Timestamp | null;
  lastRunAt: Timestamp | null;
  createdBy: string | null;
  createdByLabel: string;
  createdAt: Default<Timestamp>;
  updatedAt: Default<Timestamp>;
}

export interface ScriptVersionsTable {
  scriptId: string;
  version: number;
  body: string;
  parameters: Default<Json>;
  createdBy: string | null;
  createdByLabel: string;
  createdAt: Default<Timestamp>;
}

export interface ScriptsTable {
  id: Default<string>;
  organizationId: string;
  name: string;
  description: Default<string>;
  language: string;
  targetOs: string[];
  currentVersion: Default<number>;
  createdAt: Default<Timestamp>;
  updatedAt: Default<Timestamp>;
}

export interface SessionsTable {
  tokenHash: string;
  userId: string;
  organizationId: string;
  email: string;
  role: string;
  createdAt: Default<Timestamp>;
  expiresAt: Timestamp;
  ip: string | null;
  restricted: string | null;
}

export interface ShellRecordingEventsTable {
  sessionId: string;
  id: Default<number>;
  atMs: number;
  kind: string;
  data: string;
}

export interface ShellRecordingsTable {
  sessionId: string;
  organizationId: string;
  deviceId: string;
  userId: string | null;
  userLabel: string;
  shell: string;
  pty: boolean | null;
  cols: number;
  rows: number;
  startedAt: Default<Timestamp>;
  endedAt: Timestamp | null;
  endReason: string | null;
  bytes: Default<number>;
  truncated: Default<boolean>;
}

export interface SitesTable {
  id: Default<string>;
  organizationId: string;
  name: string;
  address: Default<string>;
  notes: Default<string>;
  timezone: Default<string>;
  createdAt: Default<Timestamp>;
  updatedAt: Default<Timestamp>;
}

export interface SystemAlertsTable {
  id: Default<string>;
  kind: string;
  dedupeKey: string;
  state: string;
  title: string;
  details: Default<Json>;
  occurrences: Default<number>;
  openedAt: Default<Timestamp>;
  lastSeenAt: Default<Timestamp>;
  resolvedAt: Timestamp | null;
  resolution: string | null;
}

export interface TagsTable {
  id: Default<string>;
  organizationId: string;
  name: string;
  createdAt: Default<Timestamp>;
}

export interface TicketCommentsTable {
  id: Default<string>;
  ticketId: string;
  authorId: string | null;
  body: string;
  createdAt: Default<Timestamp>;
}

export interface TicketEventLogTable {
  id: Default<number>;
  ticketId: string;
  organizationId: string;
  eventType: string;
  technicianId: string | null;
  durationSeconds: Default<number>;
  slaBreached: Default<boolean>;
  createdAt: Default<Timestamp>;
}

export interface TicketsTable {
  id: Default<string>;
  title: string;
  description: string | null;
  status: string;
  priority: string;
  organizationId: string | null;
  assignedTo: string | null;
  createdBy: string | null;
  createdAt: Default<Timestamp | null>;
  updatedAt: Default<Timestamp | null>;
  slaDueAt: Timestamp | null;
  closedAt: Timestamp | null;
  deviceId: string | null;
}

export interface UsersTable {
  id: Default<string>;
  email: string;
  passwordHash: string;
  role: string;
  organizationId: string | null;
  name: string | null;
  failedLogins: Default<number>;
  lockedUntil: Timestamp | null;
  createdAt: Default<Timestamp | null>;
  updatedAt: Default<Timestamp | null>;
  removedAt: Timestamp | null;
  totpSecret: string | null;
  totpPendingSecret: string | null;
  totpLastStep: number | null;
}

export interface WebhookSubscriptionsTable {
  id: Default<string>;
  organizationId: string;
  name: string;
  url: string;
  signingSecret: string;
  eventTypes: string[];
  enabled: Default<boolean>;
  consecutiveFailures: Default<number>;
  lastSuccessAt: Timestamp | null;
  lastError: string | null;
  lastErrorAt: Timestamp | null;
  createdBy: string | null;
  createdAt: Default<Timestamp>;
}

export interface Database {
  alertConditionState: AlertConditionStateTable;
  alertEventLog: AlertEventLogTable;
  alertExclusions: AlertExclusionsTable;
  alertRules: AlertRulesTable;
  alertScriptChecks: AlertScriptChecksTable;
  alerts: AlertsTable;
  analyticsCursors: AnalyticsCursorsTable;
  apiKeys: ApiKeysTable;
  assets: AssetsTable;
  auditLog: AuditLogTable;
  bulkJobTargets: BulkJobTargetsTable;
  bulkJobs: BulkJobsTable;
  commandOutput: CommandOutputTable;
  commands: CommandsTable;
  contracts: ContractsTable;
  customFields: CustomFieldsTable;
  deviceCredentials: DeviceCredentialsTable;
  deviceFieldValues: DeviceFieldValuesTable;
  deviceGroups: DeviceGroupsTable;
  deviceIngestState: DeviceIngestStateTable;
  deviceInventoryState: DeviceInventoryStateTable;
  deviceServices: DeviceServicesTable;
  deviceSettings: DeviceSettingsTable;
  deviceSoftware: DeviceSoftwareTable;
  deviceTags: DeviceTagsTable;
  deviceUpdates: DeviceUpdatesTable;
  devices: DevicesTable;
  drainCursors: DrainCursorsTable;
  enrollmentTokens: EnrollmentTokensTable;
  ingestLog: IngestLogTable;
  ingestQuarantine: IngestQuarantineTable;
  jobLeases: JobLeasesTable;
  logs: LogsTable;
  maintenanceWindows: MaintenanceWindowsTable;
  memberships: MembershipsTable;
  notificationChannels: NotificationChannelsTable;
  notificationDeliveries: NotificationDeliveriesTable;
  notificationOutbox: NotificationOutboxTable;
  oidcLogins: OidcLoginsTable;
  organizationSettings: OrganizationSettingsTable;
  organizationSso: OrganizationSsoTable;
  organizations: OrganizationsTable;
  passwordResets: PasswordResetsTable;
  patchApprovals: PatchApprovalsTable;
  patchDeployments: PatchDeploymentsTable;
  patchPolicies: PatchPoliciesTable;
  patchPolicyExclusions: PatchPolicyExclusionsTable;
  recoveryCodes: RecoveryCodesTable;
  scriptRuns: ScriptRunsTable;
  scriptSchedules: ScriptSchedulesTable;
  scriptVersions: ScriptVersionsTable;
  scripts: ScriptsTable;
  sessions: SessionsTable;
  shellRecordingEvents: ShellRecordingEventsTable;
  shellRecordings: ShellRecordingsTable;
  sites: SitesTable;
  systemAlerts: SystemAlertsTable;
  tags: TagsTable;
  ticketComments: TicketCommentsTable;
  ticketEventLog: TicketEventLogTable;
  tickets: TicketsTable;
  users: UsersTable;
  webhookSubscriptions: WebhookSubscriptionsTable;
}
