/** What other features use of remote commands: the service, requests, audit, channels and types. */
export { createCommandService, type CommandService } from './service.ts';
export { assertScript, awaitingApproval, localAdminRequester, type InsertedMany, type Requester, type RunInput, type RunManyInput } from './requests.ts';
export type { FinishedHook } from './report-groups.ts';
export { WINDOWS_OS_TYPES, assertShellSupported, defaultShell } from './shells.ts';
export { MAX_SCRIPT_BYTES } from './limits.ts';
export { writeCommandAudit, type Auditor } from './audit.ts';
export type { Publisher } from './events.ts';
export { resolveDeviceRef, targetDevice } from './device-ref.ts';
export { deviceChannel, shellChannel } from './channels.ts';
export type { LocalDevices } from './local-devices.ts';
export { FINAL_STATUSES, SHELLS } from './types.ts';
export type { Command, CommandStatus, OutputEvent, AgentMessage, CommandSpec, DeviceChannelMessage, Interpreter, Shell, ShellMessage } from './types.ts';
export { runInputSchema } from './schemas.ts';

