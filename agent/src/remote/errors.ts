import type { RemoteError } from '@ninjait/shared';

/** A refusal or failure the technician should read as is: it travels back as `{ code, message }`. */
export class RemoteFailure extends Error {
  constructor(readonly code: RemoteError['code'], message: string) {
    super(message);
  }
}

/** File-system errors in words a technician understands; anything else is FAILED with its message. */
export function describeRemoteError(error: unknown, what: string): RemoteError {
  if (error instanceof RemoteFailure) return { code: error.code, message: error.message };
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT': return { code: 'NOT_FOUND', message: `${what}: no such file or folder` };
    case 'EACCES':
    case 'EPERM': return { code: 'FORBIDDEN', message: `${what}: the agent's account may not do this (permission denied)` };
    case 'ENOSPC': return { code: 'ENOSPC', message: `${what}: the device's disk is full (ENOSPC); the partial file was removed` };
    case 'EDQUOT': return { code: 'ENOSPC', message: `${what}: the disk quota is exhausted (EDQUOT); the partial file was removed` };
    case 'EISDIR': return { code: 'BAD_REQUEST', message: `${what} is a folder` };
    case 'ENOTDIR': return { code: 'BAD_REQUEST', message: `${what}: a part of the path is not a folder` };
    case 'ESRCH': return { code: 'NOT_FOUND', message: `${what}: no such process` };
    default: return { code: 'FAILED', message: `${what}: ${(error as Error)?.message ?? String(error)}`.slice(0, 1000) };
  }
}
