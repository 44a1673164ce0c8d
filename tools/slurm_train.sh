#!/usr/bin/env bash
# Train on a Slurm cluster, one task per GPU (as MMAction2's
# tools/slurm_train.sh):
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#       bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [train.py options]
# The srun call is tools/slurm_run.sh's, shared with slurm_test.sh.
set -euo pipefail
source "$(dirname "$0")/slurm_run.sh"
slurm_run train.py 3 "PARTITION JOB_NAME CONFIG [tools/train.py options]" \
    "$@"
