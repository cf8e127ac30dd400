/** What other features use of ingest: the sink contract, to consume the ingest log as one more drainer. */
export { failure, success, latestPerDevice, type IngestRow, type Sink, type WriteResult } from './sinks/types.ts';
export type { IngestLog } from './ingest-log.ts';
