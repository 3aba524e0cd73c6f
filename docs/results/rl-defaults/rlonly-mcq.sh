# RL-only from a base stage that also learned general multiple-choice reading (issue 19.3):
# `--base-mcq 0.5` turns half of the base samples into questions about the image's look, keyed by
# the phrase the description uses; the caption names modality and region. Resumable.
# usage: bash docs/results/rl-defaults/rlonly-mcq.sh NAME BASE_STEPS MCQ [con-grpo flags...]
set -e
cd /work/main
M="node apps/cli/bin/medad.js"
name=$1; steps=$2; mcq=$3; shift 3
b=/tmp/rl/base-$name
d=/tmp/rl/arms/rl-only-$name
mkdir -p $d
[ -f $b/done ] || { $M train base --data /tmp/rl/data --out $b --steps $steps --eval-every 0 --eval-samples 200 --seed 100 --base-caption caption --base-mcq $mcq > $b.log 2>&1 && touch $b/done; }
[ -f $d/base-val/eval.json ] || $M eval --checkpoint $b --data /tmp/rl/val --limit 2000 --out $d/base-val --json > $d/base-eval.log 2>&1
[ -f $d/run/done ] || { /usr/bin/time -f "%e s" -o $d/train.time $M train con-grpo --data /tmp/rl/data --from $b --out $d/run --seed 100 --eval-every 0 --eval-samples 0 "$@" > $d/train.log 2>&1 && touch $d/run/done; }
[ -f $d/val/eval.json ] || $M eval --checkpoint $d/run --data /tmp/rl/val --limit 2000 --out $d/val --json > $d/eval.log 2>&1
echo "RLONLY-$name DONE"
