"""Time ``MODELS.build`` of a config's model from a local CLIP weights file
(as ``--clip-weights`` gives it), one thread; count the weight loads.

Example::

    OMP_NUM_THREADS=1 python tools/analysis/benchmarks/build_time.py \\
        configs/mafsar_ssv2_5w1s.py --weights /tmp/vit-b16.pt

A missing ``--weights`` file is written first: a random CLIP of the
config's architecture (``open_clip.create_model``), seed 0.
"""
import argparse
import os.path as osp
import resource
import time

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--weights', required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    from mmaction.registry import MODELS
    from mmengine.config import Config

    import mafsar_mm  # noqa: F401
    from mafsar_mm.models.clip import build_open_clip, open_clip_builder
    from mafsar_mm.models.clip.clip_config import set_clip_weights
    cfg = Config.fromfile(args.config)
    if not osp.isfile(args.weights):
        torch.manual_seed(0)
        clip = dict(cfg.clip)
        clip.pop('pretrained', None)
        torch.save(build_open_clip(**clip).state_dict(), args.weights)
    set_clip_weights(cfg, args.weights)
    loads = []
    load = open_clip_builder._load_weights

    def counting(*call_args, **kwargs):
        loads.append(call_args[1])
        return load(*call_args, **kwargs)

    open_clip_builder._load_weights = counting
    start = time.perf_counter()
    model = MODELS.build(cfg.model)
    took = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f'build {took:.1f} s, {len(loads)} weight load(s), peak RSS '
          f'{peak:.2f} GiB, {len(model.state_dict())} state-dict keys')


if __name__ == '__main__':
    main()
