'use strict';
// Small statistics helpers shared by the client processes and the report.

/** The q-quantile (0..1) of the numbers, by nearest rank on a sorted copy. */
function quantile(values, q) {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

/** The median; the mean of the middle two for an even count. */
function median(values) {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  if (n === 0) return NaN;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/** Coefficient of variation (sample standard deviation / mean); NaN below two values. */
function coefficientOfVariation(values) {
  const n = values.length;
  if (n < 2) return NaN;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (n - 1);
  return Math.sqrt(variance) / mean;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same intervals on every machine. */
function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BOOTSTRAP_SEED = 19;
const BOOTSTRAP_RESAMPLES = 4000;

/**
 * Percentile-bootstrap interval for the median of `values` (one value per
 * repetition): resample the repetitions with replacement, take each
 * resample's median, report the (1-level)/2 and (1+level)/2 quantiles.
 * Seeded, so a given set of figures always yields the same interval.
 */
function bootstrapMedianInterval(values, level = 0.95, resamples = BOOTSTRAP_RESAMPLES) {
  const n = values.length;
  if (n === 0) return [NaN, NaN];
  if (n === 1) return [values[0], values[0]];
  const random = seededRandom(BOOTSTRAP_SEED);
  const medians = new Float64Array(resamples);
  const sample = new Float64Array(n);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) sample[i] = values[Math.floor(random() * n)];
    medians[b] = median(sample);
  }
  medians.sort();
  const at = (q) => medians[Math.min(resamples - 1, Math.max(0, Math.round(q * (resamples - 1))))];
  return [at((1 - level) / 2), at((1 + level) / 2)];
}

module.exports = { quantile, median, coefficientOfVariation, seededRandom, bootstrapMedianInterval };
