#!/usr/bin/env bash
# Quickstart on the built-in synthetic data: generate the clips (once,
# reused afterwards), check the tiny CLIP, train MA-FSAR with that CLIP
# frozen, test 5-way 1-shot, and print the accuracy with its 95% confidence
# interval, with the support videos and from the class names alone
# (zero-shot). The tiny CLIP ships in data/pretrained/ (as real CLIP weights
# are downloaded, not made per run): the pretraining step finds it made
# with the tool's default settings and skips; delete it, or pass --force to
# tools/pretrain_tiny_clip.py, to remake it (about 11 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${CONFIG:-configs/mafsar/mafsar_vit-tiny_5w1s_synthetic.py}
WORK_DIR=${WORK_DIR:-work_dirs/quickstart}

python tools/data/make_synthetic.py --out data/synthetic
python tools/pretrain_tiny_clip.py --out data/pretrained/clip_tiny.pt
python tools/train.py "$CONFIG" --work-dir "$WORK_DIR" "$@"
CKPT=$(cat "$WORK_DIR/last_checkpoint")
python tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK_DIR" \
    --dump-metrics "$WORK_DIR/test_metrics.json"
python tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK_DIR" \
    --dump-metrics "$WORK_DIR/test_metrics_text_only.json" --text-only
python - "$WORK_DIR" <<'PY'
import json
import os.path as osp
import sys
for name, what in (('test_metrics.json', 'with 1 support video per class'),
                   ('test_metrics_text_only.json',
                    'from the class names alone')):
    m = json.load(open(osp.join(sys.argv[1], name)))
    print(f"Quickstart 5-way 1-shot test accuracy {what}: "
          f"{m['fewshot/acc']:.2f} +/- {m['fewshot/ci95']:.2f} % "
          f"(95% CI, {m['fewshot/episodes']} episodes)")
PY
