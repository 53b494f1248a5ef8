#!/bin/bash
# Reproduces the figures of docs/methods/retraining.md: one process per configuration (VmHWM compares
# them). Usage: tests/bench/retraining_figures.sh [build dir] [output dir]; each run writes <name>.json
# (PPL, seconds, VmHWM) and <name>.log (the plugin's log, with training loss and tokens/s).
set -euo pipefail
build=${1:-build}
out=${2:-/tmp/retraining-figures}
fixtures=${COMPACTMIND_FIXTURES:-$(dirname "$0")/../../../shared/fixtures}
export COMPACTMIND_FIXTURES=$fixtures
bench="$build/bin/bench_retraining"
pruned="$out/pruned30"
mkdir -p "$out"
rm -rf "$pruned"
# One thread: on the shared 2-vCPU machine under load two threads ran ~10x slower per step.
run() { local name=$1; shift; "$bench" --threads 1 "$@" > "$out/$name.json" 2> "$out/$name.log"; }
steps='"steps":100,"batch":4,"seqlen":128'
run base --eval-windows 256
run pruned --eval-windows 256 --save "$pruned" \
  --damage 'llm-pruner={"ratio":0.3,"importance":"l2","layer_start":0,"layer_end":6}'
retrain() { run "$1" --eval-windows 256 --model "$pruned" --teacher "$fixtures/models/tiny-llama2" --apply "$2"; }
retrain finetune_full "finetune={\"mode\":\"full\",\"lr\":2e-4,$steps}"
retrain finetune_lora "finetune={\"mode\":\"lora\",\"lr\":1e-3,$steps}"
retrain distill_lora "distill={\"mode\":\"lora\",\"lr\":1e-3,$steps}"
retrain distill_full "distill={\"mode\":\"full\",\"lr\":2e-4,$steps}"
# Peak memory of training alone (no evaluation).
for batch in 1 4; do
  for mode in full lora; do
    run "memory_${mode}_batch$batch" --eval-windows 0 --model "$pruned" \
      --apply "finetune={\"mode\":\"$mode\",\"steps\":20,\"batch\":$batch,\"seqlen\":128}"
  done
done
grep -h "info\] \(finetune\|distill\): loss" "$out"/*.log
