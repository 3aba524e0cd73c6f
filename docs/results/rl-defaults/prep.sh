set -e
cd /work/main
M="node apps/cli/bin/medad.js"
[ -f /tmp/rl/data/samples.jsonl ] || $M data synth --out /tmp/rl/data --samples 20000
[ -f /tmp/rl/sft100/trainer_state.json ] || $M train sft --data /tmp/rl/data --out /tmp/rl/sft100 --steps 8000 --eval-every 0 --eval-samples 200 --seed 100
echo PREP-DONE
