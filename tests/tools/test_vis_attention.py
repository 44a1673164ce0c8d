"""tools/analysis/vis_attention.py writes the two-row attention PNG."""
import glob
import os.path as osp

import matplotlib.image as mpimg
from conftest import load_tool, small_config
from random_checkpoint import save_random_checkpoint

from mafsar_mm.apis import grid_image_size

TOOL = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tools',
    'analysis', 'vis_attention.py')


def _load_tool():
    return load_tool(TOOL, 'vis_attention')


def test_vis_attention_writes_png(synthetic_root, tmp_path, capsys):
    cfg = small_config(synthetic_root)
    config = str(tmp_path / 'config.py')
    cfg.dump(config)
    ckpt = str(tmp_path / 'model.pth')
    save_random_checkpoint(cfg, ckpt)
    video = sorted(glob.glob(osp.join(synthetic_root, 'videos', '*.mp4')))[0]
    out = str(tmp_path / 'attention.png')
    code = _load_tool().main([
        '--config', config, '--checkpoint', ckpt, '--video', video,
        '--class-name', 'a red circle rising', '--out', out, '--cell-size',
        '64'
    ])
    assert code == 0
    width, height = grid_image_size(cfg.clip_len, 64)
    assert mpimg.imread(out).shape[:2] == (height, width)
    printed = capsys.readouterr().out
    assert 'text token' in printed and out in printed
