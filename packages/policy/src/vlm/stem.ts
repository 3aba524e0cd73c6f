/**
 * Index order that regroups a patch's `3p²` values (`(py, px, c)`) into its four quarters
 * (top-left, top-right, bottom-left, bottom-right), each `(p/2)×(p/2)×3` in `(py, px, c)` order:
 * the input layout of the nonlinear patch stem (ARCHITECTURE.md §1a).
 */
export function stemOrder(patchSize: number): number[] {
  const p = patchSize;
  const h = p / 2;
  const out: number[] = [];
  for (let sy = 0; sy < 2; sy++)
    for (let sx = 0; sx < 2; sx++)
      for (let py = 0; py < h; py++) for (let px = 0; px < h; px++) for (let c = 0; c < 3; c++) out.push(((sy * h + py) * p + sx * h + px) * 3 + c);
  return out;
}
