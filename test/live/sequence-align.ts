// Aligns two per-cycle latency sequences (cyclictest's own, rtscope's) that may each miss
// a few cycles: a banded Needleman-Wunsch over the cycle order. A match costs the distance
// of the pair's difference from the expected offset (clipped), a gap a fixed price, so a
// missing sample shifts the alignment instead of pairing every later cycle wrongly.

export interface Alignment {
  /** [index in a, index in b] of matched pairs, in order */
  pairs: [number, number][];
  gapsA: number;
  gapsB: number;
}

export function alignSequences(
  a: readonly number[],
  b: readonly number[],
  offset: number,
  clip: number,
  band = 64,
): Alignment {
  const n = a.length;
  const m = b.length;
  const W = 2 * band + 1;
  const INF = Number.POSITIVE_INFINITY;
  const cost = new Float64Array((n + 1) * W).fill(INF);
  const from = new Uint8Array((n + 1) * W); // 1 match, 2 gap in a (skip a[i]), 3 gap in b
  const at = (i: number, j: number) => i * W + (j - i + band);
  const inBand = (i: number, j: number) => j - i >= -band && j - i <= band && j >= 0 && j <= m;
  const gap = clip;
  cost[at(0, 0)] = 0;
  for (let i = 0; i <= n; i++) {
    for (let j = Math.max(0, i - band); j <= Math.min(m, i + band); j++) {
      if (i === 0 && j === 0) continue;
      let best = INF;
      let how = 0;
      if (i > 0 && j > 0 && inBand(i - 1, j - 1)) {
        const c = cost[at(i - 1, j - 1)] + Math.min(clip, Math.abs(a[i - 1] - b[j - 1] - offset));
        if (c < best) {
          best = c;
          how = 1;
        }
      }
      if (i > 0 && inBand(i - 1, j)) {
        const c = cost[at(i - 1, j)] + gap;
        if (c < best) {
          best = c;
          how = 2;
        }
      }
      if (j > 0 && inBand(i, j - 1)) {
        const c = cost[at(i, j - 1)] + gap;
        if (c < best) {
          best = c;
          how = 3;
        }
      }
      cost[at(i, j)] = best;
      from[at(i, j)] = how;
    }
  }
  const pairs: [number, number][] = [];
  let gapsA = 0;
  let gapsB = 0;
  let i = n;
  let j = m;
  if (!inBand(n, m)) throw new Error(`sequences differ in length by more than ${band}`);
  while (i > 0 || j > 0) {
    const how = from[at(i, j)];
    if (how === 1) {
      pairs.push([i - 1, j - 1]);
      i--;
      j--;
    } else if (how === 2) {
      gapsA++;
      i--;
    } else {
      gapsB++;
      j--;
    }
  }
  pairs.reverse();
  return { pairs, gapsA, gapsB };
}
