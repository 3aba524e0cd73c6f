set -e
cd /work/main
M="node apps/cli/bin/medad.js"
d=/tmp/rl/arms/rl-only-caption
mkdir -p $d
[ -f /tmp/rl/base100c/trainer_state.json ] || $M train base --data /tmp/rl/data --out /tmp/rl/base100c --steps 600 --eval-every 0 --eval-samples 200 --seed 100 --base-caption caption > /tmp/rl/base100c.log 2>&1
[ -f $d/base-val/eval.json ] || $M eval --checkpoint /tmp/rl/base100c --data /tmp/rl/val --limit 2000 --out $d/base-val --json > $d/base-eval.log 2>&1
[ -f $d/run/done ] || { /usr/bin/time -f "%e s" -o $d/train.time $M train con-grpo --data /tmp/rl/data --from /tmp/rl/base100c --out $d/run --seed 100 --eval-every 0 --eval-samples 0 "$@" > $d/train.log 2>&1 && touch $d/run/done; }
[ -f $d/val/eval.json ] || $M eval --checkpoint $d/run --data /tmp/rl/val --limit 2000 --out $d/val --json > $d/eval.log 2>&1
echo RLONLY3-DONE
