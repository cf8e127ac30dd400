import { DOWNLOAD_STREAM_PATH } from '../features/remote/index.ts';
import { LOCAL_ADMIN_HEADER } from '../platform/trpc/context.ts';
import type { ByteSource } from './transfer.ts';

/** What the server's refusal says, shaped like a tRPC client error (`data.code`), so retries judge it alike. */
class StreamRefused extends Error {
  constructor(message: string, readonly data: { code: string | undefined }) {
    super(message);
  }
}

/**
 * The local admin's streamed download (`GET /remote/files/download`): the device's bytes as the
 * response body, read as it arrives (the server waits while this side writes to disk).
 */
export function localAdminByteSource(server: { url: string; token: string }, device: { device: string; org?: string | undefined }): ByteSource {
  return async (path, from, size) => {
    const query = new URLSearchParams({ device: device.device, ...(device.org ? { org: device.org } : {}), path, offset: String(from), size: String(size) });
    const res = await fetch(`${server.url}${DOWNLOAD_STREAM_PATH}?${query}`, { headers: { [LOCAL_ADMIN_HEADER]: server.token } });
    if (!res.ok) {
      const body = await res.json().catch(() => null) as { error?: { code?: string; message?: string } } | null;
      throw new StreamRefused(body?.error?.message ?? `The server answered the download with HTTP ${res.status}`, { code: body?.error?.code });
    }
    if (!res.body || res.headers.get('content-type') !== 'application/octet-stream') {
      throw new StreamRefused('The server does not stream downloads (is it older than this CLI?)', { code: 'BAD_REQUEST' });
    }
    return res.body;
  };
}
