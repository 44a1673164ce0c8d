#!/usr/bin/env bash
# The shared body of tools/slurm_train.sh and tools/slurm_test.sh (as
# MMAction2's slurm scripts): one srun task per GPU, each running
#   python -u tools/TOOL ARGS... --launcher=slurm OPTIONS...
# MMEngine reads the Slurm environment (SLURM_PROCID, SLURM_NTASKS, the
# node list). Sourced, then called as
#   slurm_run TOOL NARGS USAGE PARTITION JOB_NAME ARGS... [OPTIONS...]
# with NARGS the count of PARTITION, JOB_NAME and the tool's ARGS.
# Environment: GPUS (8), GPUS_PER_NODE (8), CPUS_PER_TASK (5), SRUN_ARGS,
# MASTER_PORT (random in 12000-31999).
slurm_run() {
    local tool=$1 nargs=$2 usage=$3
    shift 3
    if [ $# -lt "$nargs" ]; then
        echo "usage: bash $0 $usage" >&2
        exit 1
    fi
    export MASTER_PORT=${MASTER_PORT:-$((12000 + RANDOM % 20000))}
    local partition=$1 job_name=$2
    shift 2
    local args=("${@:1:nargs-2}") options=("${@:nargs-1}")
    local gpus=${GPUS:-8} per_node=${GPUS_PER_NODE:-8}
    set -x
    # shellcheck disable=SC2086  # SRUN_ARGS: several words on purpose
    PYTHONPATH="$(dirname "$0")/..${PYTHONPATH:+:$PYTHONPATH}" \
    srun -p "${partition}" \
        --job-name="${job_name}" \
        --gres=gpu:"${per_node}" \
        --ntasks="${gpus}" \
        --ntasks-per-node="${per_node}" \
        --cpus-per-task="${CPUS_PER_TASK:-5}" \
        --kill-on-bad-exit=1 \
        ${SRUN_ARGS:-} \
        python -u "$(dirname "$0")/${tool}" "${args[@]}" --launcher=slurm \
        "${options[@]}"
}
