import { createTRPCClient, createWSClient, httpLink, TRPCClientError, wsLink, type WebSocketClientOptions } from '@trpc/client';
import { WebSocket } from 'ws';
import { DEFAULT_SERVER_PORT } from '@ninjait/shared';
import type { AppRouter } from '../app/router.ts';
import { LOCAL_ADMIN_HEADER } from '../platform/trpc/context.ts';
import { readLocalAdminToken } from '../features/auth/local-admin.ts';
import { UsageError } from './args.ts';

export interface ClientFlags {
  server?: string | undefined;
  'data-dir'?: string | undefined;
}

export function serverUrl(flags: ClientFlags): string {
  return (flags.server ?? process.env.NINJAIT_SERVER ?? `http://127.0.0.1:${process.env.PORT ?? DEFAULT_SERVER_PORT}`).replace(/\/$/, '');
}

/** The server's URL and the local admin's credential from the file in DATA_DIR. */
export async function localAdminCredentials(flags: ClientFlags): Promise<{ url: string; token: string }> {
  const dataDir = flags['data-dir'] ?? process.env.DATA_DIR ?? './data';
  const token = await readLocalAdminToken(dataDir);
  if (!token) throw new UsageError(`No local admin credential in ${dataDir}: is the server running with DATA_DIR=${dataDir}? (use --data-dir)`);
  return { url: serverUrl(flags), token };
}

/** A client authenticated as the local admin, through the credential file in DATA_DIR. */
export async function localAdminClient(flags: ClientFlags) {
  const { url, token } = await localAdminCredentials(flags);
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${url}/trpc`, headers: { [LOCAL_ADMIN_HEADER]: token } })],
  });
}

/** A WebSocket client carrying the local admin header (subscriptions need the socket). */
export function localAdminSocket(url: string, token: string) {
  class WithHeader extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { headers: { [LOCAL_ADMIN_HEADER]: token } });
    }
  }
  const socket = createWSClient({
    url: `${url.replace(/^http/, 'ws')}/trpc`,
    WebSocket: WithHeader as unknown as WebSocketClientOptions['WebSocket'],
  });
  return { client: createTRPCClient<AppRouter>({ links: [wsLink({ client: socket })] }), close: () => socket.close() };
}

/** Turns API errors into one readable line. */
export function describeError(error: unknown): string {
  if (error instanceof TRPCClientError) {
    const zod = (error.data as { zodError?: { fieldErrors?: Record<string, string[]> } } | undefined)?.zodError;
    const fields = Object.entries(zod?.fieldErrors ?? {}).map(([field, messages]) => `${field}: ${messages.join(', ')}`);
    return fields.length > 0 ? `${error.message}\n  ${fields.join('\n  ')}` : error.message;
  }
  const cause = (error as { cause?: { code?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED') return 'Cannot reach the server: is it running? (see --server)';
  return (error as Error).message ?? String(error);
}

export function printTable(rows: Record<string, unknown>[], columns: string[]): void {
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const cell = (value: unknown) => (value instanceof Date ? value.toISOString() : value === null || value === undefined ? '-' : String(value));
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => cell(row[column]).length)));
  const line = (values: string[]) => values.map((value, i) => value.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write(`${line(columns.map((column) => column.toUpperCase()))}\n`);
  for (const row of rows) process.stdout.write(`${line(columns.map((column) => cell(row[column])))}\n`);
}
