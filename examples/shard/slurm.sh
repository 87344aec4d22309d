#!/bin/bash
# The sharded run as a Slurm job array: task 0 is the coordinator, tasks
# 1..N the workers (part i-1 of N). All tasks share DIR, which must be on
# a shared file system and empty; no network access is needed. Build the
# program once on the login node (go build -o shard ./examples/shard) so
# that the tasks do not compile it.
#
#   sbatch --export=ALL,N=8,DIR=/shared/scratch/psm-run1 examples/shard/slurm.sh
#
# Data mode (each worker reads only its own persons): write the shards
# once, then pass their directory as SPLIT:
#
#   ./shard -dir /shared/scratch/psm-split -split 8 -n 3300000
#   sbatch --export=ALL,N=8,DIR=/shared/scratch/psm-run1,SPLIT=/shared/scratch/psm-split examples/shard/slurm.sh
#
# The array must have N+1 tasks: adjust --array to 0-N when N is not 8.
#SBATCH --job-name=psm-shard
#SBATCH --array=0-8
#SBATCH --cpus-per-task=2
#SBATCH --mem=8G
#SBATCH --time=01:00:00
#SBATCH --output=psm-shard-%A_%a.log
set -euo pipefail

N=${N:-8}
DIR=${DIR:?set DIR to an empty directory on a shared file system}
BIN=${BIN:-./shard}
DATA=(-n "${PERSONS:-3300000}" -seed "${SEED:-2015}")
mkdir -p "$DIR"

PART=$((SLURM_ARRAY_TASK_ID - 1))
if [ -n "${SPLIT:-}" ]; then
	if [ "$SLURM_ARRAY_TASK_ID" -eq 0 ]; then
		exec "$BIN" -dir "$DIR" -coordinate "$N" -timeout 55m -data "$SPLIT"
	else
		exec "$BIN" -dir "$DIR" -part "$PART/$N" -timeout 55m -data "$SPLIT/shard-$PART" -seed "${SEED:-2015}"
	fi
fi
if [ "$SLURM_ARRAY_TASK_ID" -eq 0 ]; then
	exec "$BIN" -dir "$DIR" -coordinate "$N" -timeout 55m "${DATA[@]}"
else
	exec "$BIN" -dir "$DIR" -part "$PART/$N" -timeout 55m "${DATA[@]}"
fi
