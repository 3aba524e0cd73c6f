#!/usr/bin/env bash
# The zoom ablation of issue 22.2 (MedReason-R1's coarse-to-fine diagnosis): no zoom, predicted
# zoom and oracle zoom, per task, after SFT and after Con-GRPO, over seeds 1-3, with paired 95%
# intervals against no zoom. Resumable: a finished step leaves OUT/done/<step> and is skipped.
#
# usage: bash docs/results/zoom/ablation.sh OUT
#   e.g. bash docs/results/zoom/ablation.sh /work/zoom-out && node docs/results/zoom/table.mjs /work/zoom-out > docs/results/zoom/README.md
# The default regime is the reproduce presets' (20,000 samples, small, SFT 8,000 steps, Con-GRPO
# 100 steps at 8 × 8, the whole test split greedy). A smoke check of the plumbing:
#   SAMPLES=200 SFT_STEPS=20 GRPO_STEPS=2 MODEL=tiny LIMIT=40 SEEDS="1 2" bash docs/results/zoom/ablation.sh /tmp/zoom-smoke
# Seeds run two at a time (one thread each); a lone last seed also gets one thread, so every
# configuration has the same compute.
set -euo pipefail
OUT=$(realpath -m "${1:?usage: ablation.sh OUT}")
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
M=(node "$ROOT/apps/cli/bin/medad.js")
SAMPLES=${SAMPLES:-20000}
SFT_STEPS=${SFT_STEPS:-8000}
GRPO_STEPS=${GRPO_STEPS:-100}
MODEL=${MODEL:-small}
SEEDS=${SEEDS:-1 2 3}
LIMIT=${LIMIT:-0}
mkdir -p "$OUT/done" "$OUT/logs"
printf '%s\n' "command: bash docs/results/zoom/ablation.sh $OUT" "commit: $(git -C "$ROOT" rev-parse HEAD)" "SAMPLES=$SAMPLES SFT_STEPS=$SFT_STEPS GRPO_STEPS=$GRPO_STEPS MODEL=$MODEL SEEDS=$SEEDS LIMIT=$LIMIT" "started: $(date -u +%FT%TZ)" >> "$OUT/ablation.log"

# step NAME COMMAND...: runs once; its wall time goes to logs/NAME.time, its output to logs/NAME.log.
step() {
  local name=$1; shift
  [ -f "$OUT/done/$name" ] && return 0
  local t0; t0=$(date +%s)
  "$@" > "$OUT/logs/$name.log" 2>&1 || { echo "step $name failed: see $OUT/logs/$name.log" >&2; return 1; }
  echo $(( $(date +%s) - t0 )) > "$OUT/logs/$name.time"
  touch "$OUT/done/$name"
}

evaluate() { # NAME RUN ZOOM SEED
  local lim=(); [ "$LIMIT" != 0 ] && lim=(--limit "$LIMIT")
  step "eval-$1-$3-$4" "${M[@]}" eval --checkpoint "$OUT/runs/$2-$4" --data "$OUT/data" --seeds "$4" --zoom "$3" "${lim[@]}" --out "$OUT/evals/$1-$3-$4" --json
}

chain() { # SEED
  local s=$1
  local sft=(train sft --data "$OUT/data" --preset "$MODEL" --seed "$s" --steps "$SFT_STEPS" --threads 1 --eval-every 0 --eval-samples 200)
  local grpo=(train con-grpo --data "$OUT/data" --seed "$s" --steps "$GRPO_STEPS" --threads 1 --eval-every 0 --eval-samples 0)
  # SFT: the baseline, and the same steps also learning each answer on the image zoomed into its lesion.
  step "sft-none-$s" "${M[@]}" "${sft[@]}" --out "$OUT/runs/sft-none-$s"
  step "sft-zoom-$s" "${M[@]}" "${sft[@]}" --zoom oracle --out "$OUT/runs/sft-zoom-$s"
  for z in none predicted oracle; do
    evaluate sft-none sft-none $z "$s"
    evaluate sft-zoom sft-zoom $z "$s"
  done
  # Con-GRPO from each: without zoom, and rolling out on the regions the SFT policy predicts.
  step "grpo-none-$s" "${M[@]}" "${grpo[@]}" --from "$OUT/runs/sft-none-$s" --out "$OUT/runs/grpo-none-$s"
  step "grpo-zoom-$s" "${M[@]}" "${grpo[@]}" --from "$OUT/runs/sft-zoom-$s" --zoom predicted --out "$OUT/runs/grpo-zoom-$s"
  evaluate grpo-none grpo-none none "$s"
  for z in predicted oracle; do evaluate grpo-zoom grpo-zoom $z "$s"; done
  echo "seed $s done $(date -u +%FT%TZ)" >> "$OUT/ablation.log"
}

[ -f "$OUT/done/data" ] || step data "${M[@]}" data synth --out "$OUT/data" --samples "$SAMPLES" --seed 0
set -- $SEEDS
while [ $# -gt 0 ]; do
  if [ $# -ge 2 ]; then chain "$1" & a=$!; chain "$2" & b=$!; wait $a; wait $b; shift 2
  else chain "$1"; shift; fi
done
echo "finished: $(date -u +%FT%TZ)" >> "$OUT/ablation.log"
