/**
 * The sequence numbers each device's day counted, beside the `max_seq` watermark: a writer that
 * cannot rely on a device's samples arriving in order (the JetStream log's instances share a
 * consumer, so one may store a device's later samples before another stores its earlier ones)
 * asks which of its samples are in this set instead of comparing with the watermark, and counts
 * each sample once whatever the order. Merged rows keep the union. A replay comes minutes or
 * hours after the first write, never days, so the set is dropped after a week; the counts stay.
 */
export const usageSequences: readonly string[] = [
  `ALTER TABLE metric_usage_daily ADD COLUMN IF NOT EXISTS seqs
    SimpleAggregateFunction(groupUniqArrayArray, Array(UInt64)) TTL day + INTERVAL 7 DAY`,
];
