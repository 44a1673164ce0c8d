"""The FgMA backbone against ``data/fgma_reference.pt``, written by
``make_fgma_reference.py`` from the code before FgMA was split into
paper-box modules: seeded builds give bit-identical parameters (the
adapters draw from the RNG in the same order, under the same names) and
the same outputs and gradients.

Outputs and gradients are compared bit for bit on a CPU of the capability
that wrote the file (float kernels differ between instruction sets), and
to float rounding elsewhere."""
import importlib.util
import os.path as osp

import pytest
import torch

HERE = osp.dirname(osp.abspath(__file__))
REF = torch.load(
    osp.join(HERE, 'data', 'fgma_reference.pt'), weights_only=True)
_spec = importlib.util.spec_from_file_location(
    'make_fgma_reference', osp.join(HERE, 'make_fgma_reference.py'))
maker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(maker)
EXACT = torch.backends.cpu.get_cpu_capability() == REF['cpu_capability']


def test_reference_covers_every_case():
    assert set(REF['cases']) == set(maker.CASES)


@pytest.mark.parametrize('name', sorted(maker.CASES))
def test_seeded_build_and_forward_match_the_reference(name):
    ref = REF['cases'][name]
    assert ref['kwargs'] == maker.CASES[name]
    torch.set_num_threads(1)
    backbone = maker.build(ref['kwargs'])
    params = {
        k: maker.digest(v)
        for k, v in backbone.state_dict().items()
    }
    # same names, same order, same bits
    assert list(params) == list(ref['params'])
    assert params == ref['params']
    out = maker.run(backbone)
    assert list(out['grad_digests']) == list(ref['grad_digests'])
    for key in ('eval_support', 'eval_query', 'train_support',
                'train_query'):
        if EXACT:
            assert torch.equal(out[key], ref[key]), key
        else:
            torch.testing.assert_close(out[key], ref[key])
    if EXACT:
        assert out['grad_digests'] == ref['grad_digests']
    else:
        for key, norm in ref['grad_norms'].items():
            assert out['grad_norms'][key] == pytest.approx(norm, rel=1e-4)
