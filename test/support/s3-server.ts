import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './processes.ts';

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

/** The npm S3 server's only account (it checks every request's signature against it). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface LocalS3 {
  /** Path-style endpoint + bucket, e.g. http://127.0.0.1:PORT/ninjait-archive. */
  bucketUrl: string;
  /** Where the server keeps the bucket's objects on disk (`<key>._S3rver_object`). */
  bucketDir: string;
  stop(): Promise<void>;
}

/**
 * An S3-compatible server from npm (`@20minutes/s3rver`, maintained fork of s3rver): SigV4
 * signatures checked, objects on disk in a temporary folder, one bucket, loopback only.
 */
export async function startLocalS3(bucket = 'ninjait-archive'): Promise<LocalS3> {
  const S3rver = createRequire(import.meta.url)('@20minutes/s3rver') as S3rverClass;
  const dir = await mkdtemp(join(tmpdir(), 'ninjait-s3-'));
  const server = new S3rver({
    address: '127.0.0.1', port: await freePort(), directory: dir, silent: true,
    // Path-style only: clients address http://host:port/bucket/key, as ClickHouse does for a non-AWS endpoint.
    vhostBuckets: false, configureBuckets: [{ name: bucket }],
  });
  try {
    const { port } = await server.run();
    return {
      bucketUrl: `http://127.0.0.1:${port}/${bucket}`,
      bucketDir: join(dir, bucket),
      async stop() {
        await server.close().catch(() => undefined);
        await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    throw error;
  }
}
