/**
 * The request-duration histogram, kept in plain arrays: prom-client's Histogram validates and hashes the labels on
 * every observe, which on the authenticated hot path costs more than the token check. A route gets its recorder
 * once (at registration); a request then costs a Map lookup by method, an array index by status and a bucket scan.
 * Rendered at scrape time in prom-client's metric shape, so it sits in the same registry as the others.
 */
interface Series {
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  buckets: Float64Array;
  sum: number;
  count: number;
}

type Labels = { route: string; method: string; status: string };

export class RequestDurations {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #series: { labels: Labels; data: Series }[] = [];

  constructor(readonly name: string, readonly help: string, readonly upperBounds: readonly number[]) {}

  /** The recorder of one route pattern: call it with each answer's method, status and duration in seconds. */
  recorder(route: string): (method: string, status: number, seconds: number) => void {
    const byMethod = new Map<string, Series[]>();
    return (method, status, seconds) => {
      let byStatus = byMethod.get(method);
      if (!byStatus) byMethod.set(method, (byStatus = []));
      const series = (byStatus[status] ??= this.#add({ route, method, status: String(status) }));
      const bounds = this.upperBounds;
      let i = 0;
      while (i < bounds.length && seconds > bounds[i]!) i++;
      series.buckets[i]!++;
      series.sum += seconds;
      series.count++;
    };
  }

  #add(labels: Labels): Series {
    const data = { buckets: new Float64Array(this.upperBounds.length + 1), sum: 0, count: 0 };
    this.#series.push({ labels, data });
    return data;
  }

  /** prom-client's shape of a histogram (what its Registry renders): cumulative buckets, then +Inf, sum and count. */
  async get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const { labels, data } of this.#series) {
      let cumulative = 0;
      this.upperBounds.forEach((le, i) => {
        cumulative += data.buckets[i]!;
        values.push({ labels: { ...labels, le }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { ...labels, le: '+Inf' }, value: data.count, metricName: `${this.name}_bucket` });
      values.push({ labels, value: data.sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: data.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
