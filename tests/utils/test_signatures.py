"""accepted_keys: the keyword arguments a class or function takes."""
from mafsar_mm.utils.signatures import accepted_keys, forwards_to_super


class Base:

    def __init__(self, a: int = 0, *, b: int = 1) -> None:
        self.a, self.b = a, b


class Forwards(Base):

    def __init__(self, c: int = 2, **kwargs) -> None:
        super().__init__(**kwargs)
        self.c = c


class ForwardsTwice(Forwards):

    def __init__(self, d: int = 3, **options) -> None:
        super(ForwardsTwice, self).__init__(**options)


class Keeps(Base):

    def __init__(self, c: int = 2, **kwargs) -> None:
        super().__init__()
        self.extra = kwargs


class ForwardsAfterPop(Base):

    def __init__(self, **kwargs) -> None:
        kwargs.pop('z', None)
        super().__init__(**kwargs)


class NoInit(Forwards):
    pass


def function(x, y=1, *args, z=2):
    return x


def open_function(x, **kwargs):
    return x


def test_plain_signatures():
    assert accepted_keys(Base) == {'a', 'b'}
    assert accepted_keys(function) == {'x', 'y', 'z'}
    # a class without its own __init__ takes its parent's
    assert accepted_keys(NoInit) == {'a', 'b', 'c'}


def test_kwargs_passed_to_the_parent_add_its_arguments():
    assert accepted_keys(Forwards) == {'a', 'b', 'c'}
    assert accepted_keys(ForwardsTwice) == {'a', 'b', 'c', 'd'}
    assert forwards_to_super(Forwards.__init__, 'kwargs')


def test_kwargs_used_otherwise_accept_every_name():
    assert not forwards_to_super(Keeps.__init__, 'kwargs')
    assert accepted_keys(Keeps) is None
    assert not forwards_to_super(ForwardsAfterPop.__init__, 'kwargs')
    assert accepted_keys(ForwardsAfterPop) is None
    assert accepted_keys(open_function) is None


def test_kwargs_of_names_where_they_go():
    # Keeps calls its parent without arguments: a and b are not its own
    assert accepted_keys(Keeps, {Keeps: {'e'}}) == {'c', 'e'}
    assert accepted_keys(Keeps, {Keeps: set()}) == {'c'}
    # classes not named there are read as usual
    assert accepted_keys(ForwardsTwice, {Keeps: {'e'}}) == {'a', 'b', 'c', 'd'}
