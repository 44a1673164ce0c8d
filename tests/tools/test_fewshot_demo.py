"""tools/demo/fewshot_demo.py ranks the support classes per query."""
import json
import os
import os.path as osp

from conftest import load_tool, run_tool, small_config
from random_checkpoint import save_random_checkpoint

DEMO = osp.join('tools', 'demo', 'fewshot_demo.py')


def _support_dir(synthetic_root, root, num_classes=3):
    """One sub-folder (1 video) per test class; the other videos of
    those classes are the queries."""
    with open(osp.join(synthetic_root, 'classes.txt')) as f:
        names = [line.strip() for line in f]
    videos = {}
    with open(osp.join(synthetic_root, 'test.txt')) as f:
        for line in f:
            path, label = line.split()
            videos.setdefault(names[int(label)],
                              []).append(osp.join(synthetic_root, path))
    classes = sorted(videos)[:num_classes]
    for name in classes:
        os.makedirs(osp.join(root, name))
        first = videos[name][0]
        os.symlink(first, osp.join(root, name, osp.basename(first)))
    return classes, [videos[name][1] for name in classes]


def _setup(synthetic_root, tmp_path) -> tuple:
    """Config file, random checkpoint, support dir, classes and queries."""
    cfg = small_config(synthetic_root)
    config = str(tmp_path / 'config.py')
    cfg.dump(config)
    ckpt = str(tmp_path / 'model.pth')
    save_random_checkpoint(cfg, ckpt)
    support = str(tmp_path / 'sup')
    classes, queries = _support_dir(synthetic_root, support)
    return config, ckpt, support, classes, queries


def test_demo_cli(synthetic_root, tmp_path):
    config, ckpt, support, classes, queries = _setup(synthetic_root, tmp_path)
    out = str(tmp_path / 'results.json')
    proc = run_tool(DEMO, '--config', config, '--checkpoint', ckpt,
                    '--support', support, '--query', *queries, '--topk', '2',
                    '--out', out)
    assert proc.returncode == 0, proc.stderr
    for query in queries:
        assert f'{query}:' in proc.stdout
    assert proc.stdout.count('  1. ') == len(queries)
    assert '  3. ' not in proc.stdout  # --topk 2
    results = json.load(open(out))
    assert [r['query'] for r in results] == queries
    for result in results:
        assert sorted(n for n, _ in result['ranking']) == sorted(classes)
        scores = [s for _, s in result['ranking']]
        assert scores == sorted(scores, reverse=True)


def test_demo_zero_shot_classes(synthetic_root, tmp_path):
    from mafsar_mm.apis import FewShotInferencer
    config, ckpt, support, classes, queries = _setup(synthetic_root, tmp_path)
    out = str(tmp_path / 'results.json')
    proc = run_tool(DEMO, '--config', config, '--checkpoint', ckpt,
                    '--classes', *classes, '--query', *queries, '--out', out)
    assert proc.returncode == 0, proc.stderr
    results = json.load(open(out))
    expected = FewShotInferencer(config, ckpt)(
        None, queries, zero_shot_classes=classes)['predictions']
    assert [[list(r) for r in e['ranking']] for e in expected] == \
        [r['ranking'] for r in results]
    # --support and --classes exclude each other
    proc = run_tool(DEMO, '--config', config, '--support', support,
                    '--classes', *classes, '--query', queries[0])
    assert proc.returncode == 2
    assert 'not allowed with argument' in proc.stderr


def test_demo_refuses_bad_class_names_before_building_the_model(
        tmp_path, capsys):
    demo = load_tool(DEMO, 'fewshot_demo')
    config = str(tmp_path / 'absent.py')  # never read: names come first
    for classes, message in (
        (['walking', '\t'], "Class name 2 of 2 is empty or only whitespace "
         "('\\t'); every class needs a name."),
        (['walking', 'walking '], "Class names 'walking' and 'walking ' are "
         "the same class ('walking' once whitespace is normalised); give "
         'each class once.'),
    ):
        code = demo.main(['--config', config, '--classes', *classes,
                          '--query', 'q.mp4'])
        assert code == 1
        assert capsys.readouterr().err == f'error: {message}\n'


def test_demo_clip_weights_option(synthetic_root, tmp_path, capsys):
    """The config's CLIP file is missing: one line naming --clip-weights
    before the model is built; with --clip-weights the demo runs."""
    import importlib.util

    import torch

    from mafsar_mm.models.clip import build_open_clip
    spec = importlib.util.spec_from_file_location('fewshot_demo', DEMO)
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    cfg = small_config(synthetic_root)
    clip = cfg.model.backbone.clip
    weights = str(tmp_path / 'clip.pt')
    torch.save(build_open_clip(model_cfg=clip.model_cfg).state_dict(), weights)
    for part in ('backbone', 'text_encoder'):
        cfg.model[part].clip.pretrained = str(tmp_path / 'missing.pt')
    config = str(tmp_path / 'config.py')
    cfg.dump(config)
    support = str(tmp_path / 'sup')
    classes, queries = _support_dir(synthetic_root, support, num_classes=2)
    args = ['--config', config, '--support', support, '--query', queries[0]]
    capsys.readouterr()
    assert demo.main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith('error: model.backbone.clip: CLIP weights '
                             f"file '{tmp_path / 'missing.pt'}' of the "
                             'custom CLIP (model_cfg) does not exist')
    assert '--clip-weights PATH' in err[0]
    assert demo.main(args + ['--clip-weights', weights]) == 0
    assert f'{queries[0]}:' in capsys.readouterr().out
