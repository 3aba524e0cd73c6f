/** Separable box blur of a square `side × side` grid, `radius` pixels, `passes` times (≈ Gaussian). */
export function boxBlur(data: Float32Array, side: number, radius: number, passes = 1, axis: 'both' | 'x' = 'both'): Float32Array {
  let cur = data;
  for (let p = 0; p < passes; p++) {
    const tmp = new Float32Array(cur.length);
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++) {
        let s = 0;
        let n = 0;
        for (let d = -radius; d <= radius; d++) {
          const xx = x + d;
          if (xx >= 0 && xx < side) {
            s += cur[y * side + xx]!;
            n++;
          }
        }
        tmp[y * side + x] = s / n;
      }
    if (axis === 'x') {
      cur = tmp;
      continue;
    }
    const out = new Float32Array(cur.length);
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++) {
        let s = 0;
        let n = 0;
        for (let d = -radius; d <= radius; d++) {
          const yy = y + d;
          if (yy >= 0 && yy < side) {
            s += tmp[yy * side + x]!;
            n++;
          }
        }
        out[y * side + x] = s / n;
      }
    cur = out;
  }
  return cur;
}
