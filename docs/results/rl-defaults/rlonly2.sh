set -e
cd /work/main
M="node apps/cli/bin/medad.js"
name=$1; shift
d=/tmp/rl/arms/$name
mkdir -p $d
[ -f $d/run/done ] || { /usr/bin/time -f "%e s" -o $d/train.time $M train con-grpo --data /tmp/rl/data --from /tmp/rl/base100 --out $d/run --seed 100 --eval-every 0 --eval-samples 0 "$@" > $d/train.log 2>&1 && touch $d/run/done; }
[ -f $d/val/eval.json ] || $M eval --checkpoint $d/run --data /tmp/rl/val --limit 2000 --out $d/val --json > $d/eval.log 2>&1
echo "$name done: train $(cat $d/train.time)"
