import { OrtPolicy, SPECIAL_IDS, buildOnnxModels, type VlmConfig } from '@medad/policy';

/**
 * The answer tokens of a completion, `[start, end)`: the tokens after its last `<answer>`, up to
 * the next `</answer>` (or the end, without a final `<eos>`). Null when there is no `<answer>` or
 * nothing after it. GRPO-CARE scores these tokens — the answer given prompt and everything before
 * it, the reasoning — and neither the tags nor the think.
 */
export function answerSpan(tokens: readonly number[]): [number, number] | null {
  const open = tokens.lastIndexOf(SPECIAL_IDS.answerOpen);
  if (open < 0) return null;
  const close = tokens.indexOf(SPECIAL_IDS.answerClose, open + 1);
  let end = close < 0 ? tokens.length : close;
  if (close < 0 && tokens[end - 1] === SPECIAL_IDS.eos) end--;
  return end > open + 1 ? [open + 1, end] : null;
}

/** exp(mean log-prob) over `[start, end)`: the per-token (geometric mean) likelihood GRPO-CARE compares. */
export function meanTokenLikelihood(logProbs: ArrayLike<number>, [start, end]: readonly [number, number]): number {
  let sum = 0;
  for (let t = start; t < end; t++) sum += logProbs[t]!;
  return Math.exp(sum / (end - start));
}

/**
 * One EMA step in place, `ref ← decay·ref + (1 − decay)·policy` for every weight (float32, so a
 * resumed run repeats it bit for bit); returns the RMS change of the reference.
 */
export function emaUpdate(ref: Map<string, Float32Array>, policy: ReadonlyMap<string, Float32Array>, decay: number): number {
  let sq = 0;
  let n = 0;
  for (const [name, r] of ref) {
    const p = policy.get(name);
    if (!p || p.length !== r.length) throw new Error(`EMA reference: weight "${name}" is missing from the policy or has another size`);
    for (let i = 0; i < r.length; i++) {
      const next = Math.fround(decay * r[i]! + (1 - decay) * p[i]!);
      sq += (next - r[i]!) ** 2;
      r[i] = next;
    }
    n += r.length;
  }
  return n ? Math.sqrt(sq / n) : 0;
}

/** A row to score: prompt ids, completion ids and the row's NCHW pixels. */
export interface AnswerRow {
  promptIds: readonly number[];
  completion: readonly number[];
  nchw: Float32Array;
}

/**
 * GRPO-CARE's slowly-evolving reference: an exponential moving average of the policy's weights,
 * run through ONNX Runtime (the scoring path of the frozen KL reference) to give each completion's
 * answer likelihood given its prompt and think.
 */
export class EmaReference {
  private ort: OrtPolicy | null = null;

  /** `weights` is the reference's own copy (updated in place). */
  constructor(
    private readonly config: VlmConfig,
    readonly weights: Map<string, Float32Array>,
    readonly decay: number,
    readonly every: number,
  ) {}

  /** After optimisation step `step` (1-based): an EMA step when `step` is a multiple of `every`; returns the RMS change (0 when none). */
  async afterStep(step: number, policy: ReadonlyMap<string, Float32Array>): Promise<number> {
    if (step % this.every !== 0) return 0;
    const shift = emaUpdate(this.weights, policy, this.decay);
    await this.ort?.dispose();
    this.ort = null;
    return shift;
  }

  /** Each row's answer likelihood under the reference (null when it has no answer after a think). */
  async answerLikelihoods(rows: readonly AnswerRow[]): Promise<Array<number | null>> {
    const spans = rows.map((r) => answerSpan(r.completion));
    const scored = rows.map((_, i) => i).filter((i) => spans[i] !== null);
    const out: Array<number | null> = rows.map(() => null);
    if (!scored.length) return out;
    this.ort ??= await OrtPolicy.fromModels(this.config, buildOnnxModels(this.config, this.weights));
    const pixels = new Float32Array(scored.reduce((a, i) => a + rows[i]!.nchw.length, 0));
    let off = 0;
    for (const i of scored) {
      pixels.set(rows[i]!.nchw, off);
      off += rows[i]!.nchw.length;
    }
    // Only through the end of the answer: what follows `</answer>` does not change the span's log-probs.
    const lps = await this.ort.logProbs({ prompts: scored.map((i) => rows[i]!.promptIds), completions: scored.map((i) => rows[i]!.completion.slice(0, spans[i]![1])), pixels });
    scored.forEach((i, k) => (out[i] = meanTokenLikelihood(lps[k]!, spans[i]!)));
    return out;
  }

  /** Frees the ORT sessions. */
  async dispose(): Promise<void> {
    await this.ort?.dispose();
    this.ort = null;
  }
}
