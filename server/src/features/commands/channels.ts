/** Pub/sub channels on the cache port (Redis across instances, in-process otherwise). */
export const deviceChannel = (deviceId: string) => `device:${deviceId}:commands`;
export const outputChannel = (commandId: string) => `command:${commandId}:output`;
export const shellChannel = (sessionId: string) => `shell:${sessionId}:output`;
