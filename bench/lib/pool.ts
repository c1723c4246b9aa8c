/**
 * The median of several processes' repetitions pooled, each process weighing the same however
 * many repetitions it ran.
 *
 * A process runs as many repetitions as fit its timed second at the speed of its own warm-up, so a
 * process in a quiet spell of the VM runs more of them than one in a slow spell: pooled with equal
 * weight per repetition, the quiet processes outvote the slow ones, and two cases that drew their
 * slow spells in different numbers of processes are compared on different footings (a case can
 * lead its peer in every round and still trail it on the pooled median). Each repetition of a process
 * of `k` weighs `1/k` here, so every process counts once, as in the rounds; within a process the
 * spread still counts. With one process this is the plain median.
 */
export function pooledMedian(groups: readonly (readonly number[])[]): number {
  const xs: { v: number; w: number }[] = [];
  for (const g of groups) for (const v of g) xs.push({ v, w: 1 / g.length });
  if (xs.length === 0) return NaN;
  xs.sort((a, b) => a.v - b.v);
  const total = groups.filter((g) => g.length > 0).length;
  const half = total / 2;
  const eps = 1e-9 * total;
  let acc = 0;
  for (let i = 0; i < xs.length; i++) {
    acc += xs[i].w;
    if (acc > half + eps) return xs[i].v;
    // exactly half below and half above: between this value and the next, as the plain median does
    if (acc >= half - eps) return i + 1 < xs.length ? (xs[i].v + xs[i + 1].v) / 2 : xs[i].v;
  }
  return xs[xs.length - 1].v;
}
