"""FewShotInferencer: output, parity with the recognizer, support forms,
unequal shots and error messages."""
import os
import os.path as osp

import pytest
import torch
from conftest import small_config
from mmaction.registry import DATASETS
from random_checkpoint import save_random_checkpoint

import mafsar_mm  # noqa: F401
from mafsar_mm.apis import (FewShotInferencer, support_from_dir,
                            support_from_list)
from mafsar_mm.datasets import BadVideoError
from mafsar_mm.utils.errors import InputError


@pytest.fixture(scope='module')
def setup(synthetic_root, tmp_path_factory):
    """Config, checkpoint, inferencer and test dataset (k_shot=2)."""
    cfg = small_config(synthetic_root)
    ckpt = str(tmp_path_factory.mktemp('ckpt') / 'model.pth')
    save_random_checkpoint(cfg, ckpt)
    inferencer = FewShotInferencer(cfg, ckpt)
    cfg.test_dataloader.dataset.update(k_shot=2, n_query=1, n_way=3)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    return dict(cfg=cfg, ckpt=ckpt, inferencer=inferencer, dataset=dataset)


def _episode_support(dataset, episode_id=0):
    """Support dict, queries and true classes of a dataset episode."""
    plan = dataset.episode_plan(episode_id)
    names = [dataset.all_class_names[c] for c in plan['labels']]
    k = dataset.k_shot
    support = {n: v[:k] for n, v in zip(names, plan['videos'])}
    queries = [p for v in plan['videos'] for p in v[k:]]
    truth = [n for n, v in zip(names, plan['videos']) for _ in v[k:]]
    return support, queries, truth


def test_output_structure_and_sorting(setup):
    support, queries, _ = _episode_support(setup['dataset'])
    results = setup['inferencer'](support, queries)['predictions']
    assert len(results) == len(queries)
    for result, query in zip(results, queries):
        assert result['query'] == query
        ranking = result['ranking']
        assert sorted(n for n, _ in ranking) == sorted(support)
        scores = [s for _, s in ranking]
        assert scores == sorted(scores, reverse=True)
        assert sum(scores) == pytest.approx(1.0, abs=1e-5)
        assert result['pred_class'] == ranking[0][0]


def test_same_scores_as_recognizer_predict(setup):
    dataset, inferencer = setup['dataset'], setup['inferencer']
    model = inferencer.model
    item = dataset[1]
    data = model.data_preprocessor(
        dict(inputs=[item['inputs']], data_samples=[item['data_samples']]),
        False)
    with torch.no_grad():
        plain = model.predict(data['inputs'], data['data_samples'])[0]
    support, queries, _ = _episode_support(dataset, 1)
    assert list(support) == plain.class_names
    inferencer.batch_size = 4  # batching must not change the scores
    try:
        results = inferencer(support, queries)['predictions']
    finally:
        inferencer.batch_size = 8
    for result, expected in zip(results, plain.pred_scores):
        scores = dict(result['ranking'])
        got = torch.tensor([scores[n] for n in plain.class_names])
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def test_unequal_shots(setup):
    support, queries, _ = _episode_support(setup['dataset'])
    names = list(support)
    one_shot = {n: v[:1] for n, v in support.items()}
    # 2, 1 and 3 shots (a class's shot repeated leaves its mean as is)
    repeated = {
        names[0]: one_shot[names[0]] * 2,
        names[1]: one_shot[names[1]],
        names[2]: one_shot[names[2]] * 3
    }
    base = setup['inferencer'](one_shot, queries)['predictions']
    uneven = setup['inferencer'](repeated, queries)['predictions']
    for a, b in zip(base, uneven):
        assert [n for n, _ in a['ranking']] == [n for n, _ in b['ranking']]
        for (_, sa), (_, sb) in zip(a['ranking'], b['ranking']):
            assert sa == pytest.approx(sb, abs=1e-5)
    # and really different videos: 2 + 1 + 1 shots
    mixed = dict(one_shot, **{names[0]: support[names[0]]})
    results = setup['inferencer'](mixed, queries[:1])['predictions']
    assert len(results[0]['ranking']) == 3


def test_directory_and_list_file_support(setup, tmp_path):
    support, queries, _ = _episode_support(setup['dataset'])
    root = tmp_path / 'support'
    lines = []
    for name, videos in support.items():
        folder = root / name.replace(' ', '_')
        folder.mkdir(parents=True)
        for video in videos:
            os.symlink(osp.abspath(video), folder / osp.basename(video))
            lines.append(f'{osp.abspath(video)}\t{name}')
    (root / 'notes.txt').write_text('not a class folder')
    list_file = tmp_path / 'support.txt'
    list_file.write_text('# video\tclass\n' + '\n'.join(lines) + '\n')
    from_dir = support_from_dir(str(root))
    assert sorted(from_dir) == sorted(support)
    assert support_from_list(str(list_file)) == support
    expected = setup['inferencer'](support,
                                   queries[:1])['predictions'][0]['ranking']
    for spec in (str(root), str(list_file)):
        ranking = setup['inferencer'](
            spec, queries[:1])['predictions'][0]['ranking']
        assert [n for n, _ in ranking] == [n for n, _ in expected]


def test_hidden_entries_of_a_support_folder_are_skipped(tmp_path):
    for rel in ('a/x.mp4', 'a/._x.mp4', 'a/.y.mp4', 'b/z.mp4',
                '.ipynb_checkpoints/w.mp4', '.hidden_class/v.mp4',
                'b/.ipynb_checkpoints/u.mp4', '._c.mp4', '.DS_Store'):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b'')
    assert support_from_dir(str(tmp_path)) == {
        'a': [str(tmp_path / 'a' / 'x.mp4')],
        'b': [str(tmp_path / 'b' / 'z.mp4')],
    }
    (tmp_path / 'b' / 'z.mp4').unlink()
    with pytest.raises(ValueError, match=r"without any video: \['b'\]"):
        FewShotInferencer.parse_support(str(tmp_path))


def test_list_file_relative_paths_and_bad_lines(tmp_path):
    (tmp_path / 'a.mp4').write_bytes(b'')
    good = tmp_path / 'good.txt'
    good.write_text('a.mp4\tjumping jacks\n\n')
    assert support_from_list(str(good)) == {
        'jumping jacks': [str(tmp_path / 'a.mp4')]
    }
    bad = tmp_path / 'bad.txt'
    bad.write_text('a.mp4 jumping\n')
    with pytest.raises(ValueError, match=r'bad.txt:1'):
        support_from_list(str(bad))


def test_error_messages(setup, tmp_path):
    inferencer = setup['inferencer']
    support, queries, _ = _episode_support(setup['dataset'])
    missing = str(tmp_path / 'nowhere.mp4')
    with pytest.raises(FileNotFoundError, match='nowhere.mp4'):
        inferencer(support, [missing])
    broken = tmp_path / 'broken.mp4'
    broken.write_bytes(b'this is not a video')
    with pytest.raises(BadVideoError, match='broken.mp4'):
        inferencer(support, [str(broken)])
    empty = dict(support, **{'waving hands': []})
    with pytest.raises(ValueError, match='waving hands'):
        inferencer(empty, queries)
    first = next(iter(support))
    with pytest.raises(ValueError, match='at least 2'):
        inferencer({first: support[first]}, queries)
    with pytest.raises(ValueError, match='No query'):
        inferencer(support, [])
    (tmp_path / 'sup' / 'a').mkdir(parents=True)
    (tmp_path / 'sup' / 'b').mkdir(parents=True)
    with pytest.raises(ValueError, match='without any video'):
        inferencer(str(tmp_path / 'sup'), queries)
    with pytest.raises(FileNotFoundError, match='Support set not found'):
        inferencer(str(tmp_path / 'absent'), queries)


def test_short_video_gets_the_dataset_check_and_message(setup, tmp_path):
    from conftest import write_video
    inferencer, dataset = setup['inferencer'], setup['dataset']
    min_frames = dataset.min_frames
    assert inferencer.min_frames == min_frames > 4
    short = str(tmp_path / 'short.mp4')
    write_video(short, num_frames=4)
    with pytest.raises(BadVideoError) as from_dataset:
        dataset.load_video(short, seed=0)
    with pytest.raises(BadVideoError) as from_inferencer:
        inferencer.load_clip(short)
    assert str(from_inferencer.value) == str(from_dataset.value)
    assert from_inferencer.value.reason == (
        f'4 frames, fewer than min_frames={min_frames}')
    support, queries, _ = _episode_support(dataset)
    first = next(iter(support))
    with pytest.raises(BadVideoError, match='short.mp4: 4 frames'):
        inferencer(dict(support, **{first: [short]}), queries)


def test_config_without_test_pipeline(setup):
    model = setup['cfg'].model.to_dict()
    for cfg in (dict(model=model),
                dict(model=model, test_dataloader=dict(dataset=dict()))):
        with pytest.raises(ValueError, match='test pipeline'):
            FewShotInferencer(cfg)


def test_checkpoint_is_loaded(setup):
    state = torch.load(setup['ckpt'], weights_only=True)['state_dict']
    loaded = setup['inferencer'].model.state_dict()
    for key, value in state.items():
        assert torch.equal(loaded[key].cpu(), value), key


def test_blank_and_whitespace_duplicate_class_names(setup, tmp_path):
    inferencer = setup['inferencer']
    support, queries, _ = _episode_support(setup['dataset'])
    with pytest.raises(InputError) as info:
        inferencer(None, queries, zero_shot_classes=['walking', '  '])
    assert str(info.value) == (
        "Class name 2 of 2 is empty or only whitespace ('  '); every class "
        'needs a name.')
    with pytest.raises(InputError, match=r"^Class name 1 of 3 is empty "):
        inferencer(None, queries, zero_shot_classes=['', 'a', 'b'])
    same = ("Class names 'walking' and ' walking ' are the same class "
            "('walking' once whitespace is normalised); give each class "
            'once.')
    with pytest.raises(InputError) as info:
        inferencer(None, queries, zero_shot_classes=['walking', ' walking '])
    assert str(info.value) == same
    with pytest.raises(InputError, match=r"^Class names 'a' and 'a' are "):
        inferencer(None, queries, zero_shot_classes=['a', 'b', 'a'])
    # the same check for support dicts, folders and list files
    videos = list(support.values())
    with pytest.raises(InputError) as info:
        inferencer({'walking': videos[0], ' walking ': videos[1]}, queries)
    assert str(info.value) == same
    for name in ('walking', ' walking'):
        (tmp_path / 'sup' / name).mkdir(parents=True)
        os.symlink(osp.abspath(videos[0][0]),
                   tmp_path / 'sup' / name / 'v.mp4')
    with pytest.raises(InputError) as info:
        inferencer(str(tmp_path / 'sup'), queries)
    assert str(info.value) == (
        "Class names ' walking' and 'walking' are the same class ('walking' "
        'once whitespace is normalised); give each class once.')
    listed = tmp_path / 'support.txt'
    listed.write_text(f'{osp.abspath(videos[0][0])}\tplaying  guitar\n'
                      f'{osp.abspath(videos[1][0])}\tplaying guitar\n')
    with pytest.raises(InputError, match=r"^Class names 'playing  guitar' "
                       r"and 'playing guitar' are the same class"):
        inferencer(str(listed), queries)


def test_query_that_is_a_support_video_is_warned(setup, tmp_path,
                                                 monkeypatch):
    from mafsar_mm.apis import support_checks
    logged = []
    monkeypatch.setattr(support_checks, 'print_log',
                        lambda msg, **kw: logged.append((msg, kw['level'])))
    support, queries, _ = _episode_support(setup['dataset'])
    first = next(iter(support))
    setup['inferencer'](support, queries[:1])
    assert logged == []
    link = str(tmp_path / 'same.mp4')  # another path, the same file
    os.symlink(osp.abspath(support[first][0]), link)
    setup['inferencer'](support, [queries[0], link])
    assert logged == [(f'Query {link} is also a support video of class '
                       f"{first!r}; it will trivially match that class.", 30)]
