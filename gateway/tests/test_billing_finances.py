"""/v1/personal-accounts/{id}/statement and /v1/nodes/{id}/finances: money per month, from billing."""

from __future__ import annotations

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.billing.money import format_money
from simfleet.billing.v1 import ledger_pb2 as pb
from simfleet_runtime.errors import InvalidArgument, NotFound

from .test_billing import ACCOUNT, BEARER, billing, billing_server, client  # noqa: F401

NODE = "01JA0Z6X3W8T9R2Q1P0N5M4K7B"
START, END = Timestamp(seconds=1_796_083_200), Timestamp(seconds=1_798_761_600)  # 2026-12-01, 2027-01-01


def figures(currency: str, exponent: int, **amounts: int) -> pb.PeriodFigures:
    names = (
        "opening_balance",
        "charges",
        "payments",
        "transfers_in",
        "other_credits",
        "transfers_out",
        "other_debits",
        "closing_balance",
    )
    money = {name: pb.Money(amount=amounts.get(name, 0), currency=currency, exponent=exponent) for name in names}
    return pb.PeriodFigures(currency=currency, postings_count=3, personal_accounts=amounts.get("accounts", 1), **money)


async def test_a_statement_is_billings_figures_for_the_asked_month(client, billing):  # noqa: F811
    billing.script(
        "GetStatement",
        pb.GetStatementResponse(
            personal_account_id=ACCOUNT,
            period="2026-11",
            period_start=START,
            period_end=END,
            open=False,
            figures=figures("RUB", 2, opening_balance=700000, charges=120000, payments=500000, closing_balance=1080000),
        ),
    )
    response = await client.get(
        f"/v1/personal-accounts/{ACCOUNT}/statement", params={"period": "2026-11"}, headers=BEARER
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert billing.last("GetStatement").request.period == "2026-11"
    assert billing.last("GetStatement").request.personal_account_id == ACCOUNT
    assert (body["period"], body["open"], body["period_start"]) == ("2026-11", False, "2026-12-01T00:00:00Z")
    assert body["figures"]["charges"] == {
        "amount": 120000,
        "currency": "RUB",
        "exponent": 2,
        "formatted": "RUB1,200.00",
    }
    assert body["figures"]["closing_balance"]["amount"] == 1080000
    assert body["figures"]["personal_accounts"] == 1


async def test_a_nodes_finances_are_per_currency_and_rials_have_no_decimals(client, billing):  # noqa: F811
    billing.script(
        "GetNodeFinances",
        pb.GetNodeFinancesResponse(
            node_id=NODE,
            period="2026-12",
            period_start=START,
            period_end=END,
            open=True,
            totals=[
                figures("IRR", 0, payments=1234567, closing_balance=1234567),
                figures("RUB", 2, opening_balance=100, closing_balance=100, accounts=2),
            ],
        ),
    )
    response = await client.get(f"/v1/nodes/{NODE}/finances", headers={**BEARER, "Accept-Language": "en"})
    assert response.status_code == 200, response.text
    assert billing.last("GetNodeFinances").request.period == ""  # billing's current month
    irr, rub = response.json()["totals"]
    assert irr["closing_balance"] == {"amount": 1234567, "currency": "IRR", "exponent": 0, "formatted": "IRR1,234,567"}
    assert rub["personal_accounts"] == 2 and rub["closing_balance"]["formatted"] == "RUB1.00"


def test_rials_are_written_in_whole_rials_in_every_language() -> None:
    # The rial has no minor unit: no decimals in any language, where roubles have their kopecks.
    assert format_money(1234567, "IRR", 0, "en") == "IRR1,234,567"
    assert format_money(1234567, "IRR", 0, "ru") == "1\xa0234\xa0567\xa0IRR"
    assert format_money(1234567, "IRR", 0, "fa") == "\u200e\u0631\u06cc\u0627\u0644\xa01\u066c234\u066c567"
    assert format_money(123456, "RUB", 2, "ru") == "1\xa0234,56\xa0\u20bd"


@pytest.mark.parametrize("period", ["2026-13", "2026-1", "december", "2026-12-01"])
async def test_a_bad_period_is_refused_before_billing_is_asked(client, billing, problem, period):  # noqa: F811
    for path in (f"/v1/personal-accounts/{ACCOUNT}/statement", f"/v1/nodes/{NODE}/finances"):
        response = await client.get(path, params={"period": period}, headers=BEARER)
        problem(response, 422, "VALIDATION_FAILED")
    assert billing.calls == []


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFound("no such node", reason="NODE_NOT_FOUND"), 404),
        (InvalidArgument("later", reason="INVALID_PERIOD", field_violations={"period": "YYYY-MM"}), 422),
    ],
)
async def test_billings_refusals_are_problems(client, billing, problem, error, status):  # noqa: F811
    billing.script("GetNodeFinances", error)
    response = await client.get(f"/v1/nodes/{NODE}/finances", params={"period": "2030-01"}, headers=BEARER)
    problem(response, status, error.reason)


async def test_without_a_token_nothing_is_asked(client, billing, problem):  # noqa: F811
    problem(await client.get(f"/v1/nodes/{NODE}/finances"), 401, "UNAUTHENTICATED")
    assert billing.calls == []
