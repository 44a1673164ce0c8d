#!/usr/bin/env bash
# Quickstart on the built-in synthetic data: generate the clips (once), train
# MA-FSAR on a tiny randomly initialised CLIP, test 5-way 1-shot, print the
# accuracy with its 95% confidence interval. About 5-10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${CONFIG:-configs/mafsar/mafsar_vit-tiny_5w1s_synthetic.py}
WORK_DIR=${WORK_DIR:-work_dirs/quickstart}

python tools/data/make_synthetic.py --out data/synthetic
python tools/train.py "$CONFIG" --work-dir "$WORK_DIR" "$@"
CKPT=$(cat "$WORK_DIR/last_checkpoint")
python tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK_DIR" \
    --dump "$WORK_DIR/test_metrics.json"
python - "$WORK_DIR/test_metrics.json" <<'PY'
import json
import sys
m = json.load(open(sys.argv[1]))
print(f"Quickstart 5-way 1-shot test accuracy: {m['fewshot/acc']:.2f} "
      f"+/- {m['fewshot/ci95']:.2f} % (95% CI, {m['fewshot/episodes']} "
      'episodes)')
PY
