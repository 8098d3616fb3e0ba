import pytest

import smart_routing


@pytest.mark.parametrize("name", smart_routing.__all__)
def test_every_public_name_resolves(name):
    assert getattr(smart_routing, name).__name__ == name


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="Nope"):
        _ = smart_routing.Nope
