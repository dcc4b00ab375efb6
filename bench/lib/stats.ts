/** Percentiles of a set of samples (milliseconds unless said otherwise). */
export interface Distribution {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** A growable array of numbers (latencies can run to hundreds of thousands per point). */
export class Samples {
  private values = new Float64Array(1024);
  private length = 0;

  add(value: number): void {
    if (this.length === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.length++] = value;
  }

  get count(): number {
    return this.length;
  }

  summary(): Distribution {
    return distribution(this.values.subarray(0, this.length));
  }
}

/** Nearest-rank percentiles: p99 of 100 samples is the 99th smallest, an actual sample. */
export function distribution(values: ArrayLike<number>): Distribution {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  if (n === 0) return { count: 0, min: NaN, mean: NaN, p50: NaN, p95: NaN, p99: NaN, max: NaN };
  const rank = (q: number): number => sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))];
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: n,
    min: sorted[0],
    mean: sum / n,
    p50: rank(0.5),
    p95: rank(0.95),
    p99: rank(0.99),
    max: sorted[n - 1],
  };
}

/** Rounds for reports: 3 significant decimals is plenty for milliseconds and CPU seconds. */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function roundDistribution(d: Distribution, digits = 3): Distribution {
  return {
    count: d.count,
    min: round(d.min, digits),
    mean: round(d.mean, digits),
    p50: round(d.p50, digits),
    p95: round(d.p95, digits),
    p99: round(d.p99, digits),
    max: round(d.max, digits),
  };
}

/** The wall clock in fractional milliseconds, as the fake stamps `sent_at`. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
