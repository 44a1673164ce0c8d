"""BaseMatcher: every registered matcher is one, the shared checks run
before a matcher's own and before its metric."""
import pytest
import torch
from mmaction.registry import MODELS

import mafsar_mm.models.matchers  # noqa: F401  (registers the matchers)
from mafsar_mm.models.matchers import BaseMatcher


class Recorder(BaseMatcher):
    """Returns the class count it was given, records the calls."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def check_inputs(self, support, query):
        self.calls.append('check')
        if support.shape[1] != 4:
            raise ValueError('Recorder needs T=4')

    def match(self, support, support_labels, query, num_classes):
        self.calls.append(('match', num_classes))
        return query.new_zeros(len(query), num_classes)


@pytest.mark.parametrize(
    'name', ['OTAMMatcher', 'BiMHMMatcher', 'ProtoMatcher', 'TRXMatcher'])
def test_registered_matchers_are_base_matchers(name):
    assert issubclass(MODELS.get(name), BaseMatcher)


def test_base_matcher_checks_then_matches():
    matcher = Recorder()
    support, query = torch.randn(6, 4, 8), torch.randn(5, 4, 8)
    labels = torch.tensor([2, 0, 1, 2, 0, 1])
    assert matcher(support, labels, query).shape == (5, 3)
    assert matcher.calls == ['check', ('match', 3)]
    # the shared checks come first and stop before the matcher's own
    matcher.calls.clear()
    with pytest.raises(ValueError, match=r'classes \[1\] have no support'):
        matcher(support, torch.tensor([2, 0, 0, 2, 0, 2]), query)
    assert matcher.calls == []
    with pytest.raises(ValueError, match='Recorder needs T=4'):
        matcher(torch.randn(6, 3, 8), labels, torch.randn(5, 3, 8))
    assert matcher.calls == ['check']


def test_a_matcher_without_match_cannot_be_built():
    with pytest.raises(TypeError, match='abstract'):
        type('NoMatch', (BaseMatcher, ), {})()
