#!/usr/bin/env bash
# Test on a Slurm cluster, one task per GPU (as MMAction2's
# tools/slurm_test.sh):
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#       bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT \
#       [test.py options]
# The test episodes depend only on (seed, episode id), so the accuracy is
# the same on any number of tasks. The srun call is tools/slurm_run.sh's.
set -euo pipefail
source "$(dirname "$0")/slurm_run.sh"
slurm_run test.py 4 \
    "PARTITION JOB_NAME CONFIG CHECKPOINT [tools/test.py options]" "$@"
