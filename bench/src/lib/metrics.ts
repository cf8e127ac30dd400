/** One Prometheus text exposition, parsed to `name{labels}` → value. */
export type MetricValues = Map<string, number>;

export function parsePrometheus(text: string): MetricValues {
  const values: MetricValues = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

export async function scrapeMetrics(baseUrl: string): Promise<MetricValues> {
  const res = await fetch(`${baseUrl}/metrics`);
  return parsePrometheus(await res.text());
}

/** Sum of every series of `name` (all label sets). */
export function sumOf(values: MetricValues, name: string): number {
  let total = 0;
  for (const [key, value] of values) {
    if (key === name || key.startsWith(`${name}{`)) total += value;
  }
  return total;
}

/** Largest value among the series of `name`, e.g. the worst drainer lag. */
export function maxOf(values: MetricValues, name: string): number {
  let max = 0;
  for (const [key, value] of values) {
    if (key === name || key.startsWith(`${name}{`)) max = Math.max(max, value);
  }
  return max;
}

/** Every series of `name` by its label text, e.g. lag per store. */
export function seriesOf(values: MetricValues, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of values) if (key.startsWith(`${name}{`)) out[key.slice(name.length)] = value;
  return out;
}
