import pytest
from pydantic import BaseModel, ValidationError

from smart_routing.domain.identifiers import DocumentId, InvalidIdentifier, check_id, id_problem
from smart_routing_firebase.stores import paths

HOSTILE = {
    "": "empty",
    ".": "'.'",
    "..": "'..'",
    "__x__": "reserved",
    "____": "reserved",
    "__a\n__": "reserved",
    "a b": "whitespace",
    "a\nb": "whitespace",
    "a\tb": "whitespace",
    "a\x00b": "control",
    "a\u200bb": "control",  # zero-width space: a format character, not printable
    "a\u00a0b": "whitespace",  # no-break space
    "\ud800": "control",  # a lone surrogate
    "x" * 129: "at most 128",
    "a/b": "'/'",
    "/": "'/'",
}


@pytest.mark.parametrize(("value", "named"), HOSTILE.items())
def test_hostile_ids_are_refused_and_the_problem_is_named(value, named):
    problem = id_problem(value)
    assert problem is not None and named in problem
    with pytest.raises(InvalidIdentifier, match=r"^tenant_id "):
        check_id(value, "tenant_id")


@pytest.mark.parametrize(
    "value",
    [
        "demo-tenant",
        "x" * 128,
        "a.b",
        "...",
        "_x_",
        "__x",
        "x__",
        "BTC-USD",
        "Ünïcødé",
        "sr-" + "f" * 40,
    ],
)
def test_ordinary_ids_pass(value):
    assert id_problem(value) is None
    assert check_id(value, "id") == value


@pytest.mark.parametrize("value", [None, 3, b"bytes", ["a"]])
def test_non_strings_are_refused(value):
    assert "must be a string" in id_problem(value)


def test_a_model_field_can_require_a_document_id():
    class Config(BaseModel):
        uid: DocumentId

    assert Config(uid="alice").uid == "alice"
    with pytest.raises(ValidationError, match="not a valid id"):
        Config(uid="..")


def test_every_path_checks_its_ids():
    assert paths.tax_lots("u1", "BTC/USD") == "users/u1/portfolio/lots/symbols/BTC-USD"
    lot = paths.open_lot("u1", "BTC/USD", "t1")
    assert lot == "users/u1/portfolio/lots/symbols/BTC-USD/open/t1"
    with pytest.raises(InvalidIdentifier, match=r"^trade_id"):
        paths.open_lot("u1", "BTC/USD", "..")
    with pytest.raises(InvalidIdentifier, match=r"^tenant_id"):
        paths.ledger_trade("..", "t1")
    with pytest.raises(InvalidIdentifier, match=r"^uid"):
        paths.history_trade("x/y", "t1")
    with pytest.raises(InvalidIdentifier, match=r"^trade_id"):
        paths.history_trade("u1", "__t__")


def test_order_documents_are_every_path_an_order_writes():
    assert paths.order_documents("t", "u", "sr-1", "BTC/USD") == [
        "tenants/t/executions/sr-1",
        "tenants/t/orders/sr-1",
        "tenants/t/ledger_trades/sr-1",
        "users/u/portfolio/history/trades/sr-1",
        "users/u/portfolio/lots/symbols/BTC-USD",
        "users/u/portfolio/lots/symbols/BTC-USD/open/sr-1",
        "users/u/portfolio/account",
        "users/u/portfolio/positions/symbols/BTC-USD",
    ]
    with pytest.raises(InvalidIdentifier, match=r"^symbol key"):
        paths.order_documents("t", "u", "sr-1", "..")
