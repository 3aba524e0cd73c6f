#!/bin/bash
# usage: [FROM=CHECKPOINT] arm.sh NAME [con-grpo flags...]   (resumable; FROM defaults to the SFT seed-100 run, e.g. FROM=/tmp/rl/base100 for RL-only arms)
set -e
cd /work/main
M="node apps/cli/bin/medad.js"
name=$1; shift
d=/tmp/rl/arms/$name
mkdir -p $d
if [ "$name" != sft ]; then
  [ -f $d/run/done ] || { /usr/bin/time -f "%e s" -o $d/train.time $M train con-grpo --data /tmp/rl/data --from ${FROM:-/tmp/rl/sft100} --out $d/run --seed 100 --eval-every 0 --eval-samples 0 "$@" > $d/train.log 2>&1 && touch $d/run/done; }
  ck=$d/run
else
  ck=/tmp/rl/sft100
fi
[ -f $d/val/eval.json ] || /usr/bin/time -f "%e s" -o $d/eval.time $M eval --checkpoint $ck --data /tmp/rl/val --limit 2000 --out $d/val --json > $d/eval.log 2>&1
echo "$name done: train $(cat $d/train.time 2>/dev/null) eval $(cat $d/eval.time)"
