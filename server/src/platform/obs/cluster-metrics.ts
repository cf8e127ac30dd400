import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';

/**
 * /metrics of a server running as several workers (WORKERS). Any worker may take the scrape, and
 * each knows only its own sockets and stores, so the worker that does asks the primary, which
 * gathers every worker's registry and merges them (counters and histograms add up; gauges by each
 * metric's `aggregator`). A scraper sees one server, whichever worker answers.
 */
type Json = MetricObjectWithValues<MetricValue<string>>[];
type FromWorker =
  | { ninjaitMetrics: 'gather'; id: number }
  | { ninjaitMetrics: 'mine'; id: number; metrics: Json };
type FromPrimary =
  | { ninjaitMetrics: 'collect'; id: number }
  | { ninjaitMetrics: 'merged'; id: number; text: string };

/** A worker that does not answer within this long is left out of the scrape rather than stalling it. */
const GATHER_TIMEOUT_MS = 3_000;

const tagged = <T extends { ninjaitMetrics: string }>(message: unknown): message is T =>
  typeof message === 'object' && message !== null && typeof (message as { ninjaitMetrics?: unknown }).ninjaitMetrics === 'string';

/** In a worker: the registry /metrics serves, merged over every worker; answers the primary's collections. */
export function clusterRegistry(own: Registry): Pick<Registry, 'contentType' | 'metrics'> {
  let nextId = 1;
  const waiting = new Map<number, (text: string) => void>();
  process.on('message', (message: unknown) => {
    if (!tagged<FromPrimary>(message)) return;
    if (message.ninjaitMetrics === 'collect') {
      const { id } = message;
      void own.getMetricsAsJSON().then((metrics) => process.send?.({ ninjaitMetrics: 'mine', id, metrics } satisfies FromWorker));
    } else if (message.ninjaitMetrics === 'merged') {
      waiting.get(message.id)?.(message.text);
      waiting.delete(message.id);
    }
  });
  return {
    contentType: own.contentType,
    metrics: () => new Promise<string>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error('the server\'s first process did not merge the workers\' metrics in time'));
      }, GATHER_TIMEOUT_MS * 2);
      waiting.set(id, (text) => {
        clearTimeout(timer);
        resolve(text);
      });
      process.send?.({ ninjaitMetrics: 'gather', id } satisfies FromWorker);
    }),
  } as Pick<Registry, 'contentType' | 'metrics'>;
}

/** In the primary: merges every live worker's metrics for the worker that was scraped. */
export function mergeWorkerMetrics(): () => void {
  let nextCollection = 1;
  const collections = new Map<number, { expected: Set<number>; parts: Json[]; done(): void }>();

  const gather = (asker: Worker, askerId: number) => {
    const workers = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && worker.isConnected());
    const id = nextCollection++;
    const finish = () => {
      clearTimeout(timer);
      const collection = collections.get(id);
      if (!collection) return;
      collections.delete(id);
      const text = AggregatorRegistry.aggregate(collection.parts).metrics();
      void text.then((merged) => {
        if (asker.isConnected()) asker.send({ ninjaitMetrics: 'merged', id: askerId, text: merged } satisfies FromPrimary);
      });
    };
    const timer = setTimeout(finish, GATHER_TIMEOUT_MS);
    collections.set(id, { expected: new Set(workers.map((worker) => worker.id)), parts: [], done: finish });
    for (const worker of workers) worker.send({ ninjaitMetrics: 'collect', id } satisfies FromPrimary);
  };

  const onMessage = (worker: Worker, message: unknown) => {
    if (!tagged<FromWorker>(message)) return;
    if (message.ninjaitMetrics === 'gather') {
      gather(worker, message.id);
      return;
    }
    const collection = collections.get(message.id);
    if (!collection || !collection.expected.delete(worker.id)) return;
    collection.parts.push(message.metrics);
    if (collection.expected.size === 0) collection.done();
  };
  cluster.on('message', onMessage);
  return () => cluster.off('message', onMessage);
}
