"""The simulated card acquirer: authorise, capture, void, read; declines, repeats, lost answers, outages, races."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import REGISTRY

from netsim.main import MIGRATIONS as MIGRATIONS_DIR
from netsim.payments.fault_store import PaymentFaultStore
from netsim.payments.faults import MAX_DECLINING_CARDS, PaymentFaults, validate_payment_faults
from netsim.payments.grpc_api import SERVICE_NAME
from netsim.payments.models import AUTHORIZED, CAPTURED, DECLINED, VOIDED, Payment, StoredPaymentFaults
from netsim.payments.service import AuthorizeRequest, Outcome, PaymentProvider
from simfleet.netsim.v1 import payments_pb2, payments_pb2_grpc
from simfleet_runtime import migrations
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database
from simfleet_runtime.errors import DomainError, FailedPrecondition, InvalidArgument, NotFound, Unavailable, read_error
from simfleet_runtime.grpc_server import make_channel
from simfleet_runtime.testing import NatsServer, eventually

from .conftest import make_settings, started  # type: ignore[import-not-found]

AUTH_CODE = re.compile(r"^[A-Z0-9]{6}$")
S = payments_pb2.PaymentState


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    await migrations.upgrade_async(MIGRATIONS_DIR, db_url)
    db = Database(db_url)
    try:
        yield db
    finally:
        await db.dispose()


def store_on(db: Database, initial: PaymentFaults | None = None) -> PaymentFaultStore:
    return PaymentFaultStore(db, Clock(), initial=initial or PaymentFaults(), refresh_seconds=0.1)


@pytest.fixture
def provider(database: Database) -> PaymentProvider:
    return PaymentProvider(database, Clock(), store_on(database), seed=7)


async def set_faults(provider: PaymentProvider, **faults: Any) -> None:
    await provider.faults.set(PaymentFaults(**faults))


def request(payment_id: str, **overrides: Any) -> AuthorizeRequest:
    values: dict[str, Any] = {"amount": 150_000, "currency": "RUB", "card_token": "tok_visa_4242", "description": ""}
    values.update(overrides)
    return AuthorizeRequest(payment_id=payment_id, **values)


def counted(operation: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value("simfleet_netsim_payments_total", {"operation": operation, "outcome": outcome})
    return value or 0.0


async def stored(db: Database, payment_id: str) -> Payment | None:
    async with db.sessions() as session:
        return await session.get(Payment, payment_id)


async def refused(call: Any, kind: type[DomainError], reason: str) -> DomainError:
    with pytest.raises(kind) as failed:
        await call
    assert failed.value.reason == reason, failed.value.message
    return failed.value


# ----------------------------------------------------------------- the happy path and declines
async def test_an_authorised_payment_is_captured(provider: PaymentProvider, database: Database) -> None:
    approved = counted("authorize", "approved"), counted("capture", "approved")
    authorised = await provider.authorize(request("top-up:1", description="Top-up of account 42"))
    assert authorised.changed
    payment = authorised.payment
    assert (payment.state, payment.amount, payment.currency, payment.card_token) == (
        AUTHORIZED,
        150_000,
        "RUB",
        "tok_visa_4242",
    )
    assert payment.decline_reason is None and AUTH_CODE.match(payment.authorization_code or "")

    captured = await provider.capture("top-up:1")
    assert captured.changed and captured.payment.state == CAPTURED
    assert captured.payment.authorization_code == payment.authorization_code
    assert captured.payment.updated_at >= payment.created_at == captured.payment.created_at
    row = await stored(database, "top-up:1")
    assert row is not None and row.state == CAPTURED and row.description == "Top-up of account 42"
    assert (await provider.get("top-up:1")).state == CAPTURED
    assert (counted("authorize", "approved"), counted("capture", "approved")) == (approved[0] + 1, approved[1] + 1)


async def test_declines_by_rate_and_by_card_hold_nothing_and_cannot_be_captured(provider: PaymentProvider) -> None:
    declined = counted("authorize", "declined")
    await set_faults(provider, decline_rate=1.0)
    by_rate = (await provider.authorize(request("p-rate"))).payment
    assert (by_rate.state, by_rate.decline_reason, by_rate.authorization_code) == (DECLINED, "do_not_honor", None)

    await set_faults(provider, declining_cards=("tok_empty",))
    by_card = (await provider.authorize(request("p-card", card_token="tok_empty"))).payment
    assert (by_card.state, by_card.decline_reason) == (DECLINED, "insufficient_funds")
    other_card = (await provider.authorize(request("p-other"))).payment
    assert other_card.state == AUTHORIZED
    assert counted("authorize", "declined") == declined + 2

    refused_before = counted("capture", "refused")
    error = await refused(provider.capture("p-card"), FailedPrecondition, "PAYMENT_DECLINED")
    assert error.metadata == {"payment_id": "p-card", "state": DECLINED}
    await refused(provider.void("p-rate"), FailedPrecondition, "PAYMENT_DECLINED")
    assert counted("capture", "refused") == refused_before + 1
    assert (await provider.get("p-card")).state == DECLINED


async def test_repeated_calls_answer_the_first_outcome_and_change_nothing(
    provider: PaymentProvider, database: Database
) -> None:
    first = await provider.authorize(request("p-repeat"))
    await set_faults(provider, decline_rate=1.0)  # a repeat is not a new authorisation: never declined
    again = await provider.authorize(request("p-repeat", description="another text is not another payment"))
    assert not again.changed
    assert again.payment.state == AUTHORIZED
    assert again.payment.authorization_code == first.payment.authorization_code
    assert again.payment.created_at == first.payment.created_at

    captured = await provider.capture("p-repeat")
    recaptured = await provider.capture("p-repeat")
    assert captured.changed and not recaptured.changed
    assert recaptured.payment.updated_at == captured.payment.updated_at
    after_capture = await provider.authorize(request("p-repeat"))
    assert not after_capture.changed and after_capture.payment.state == CAPTURED

    declined = await provider.authorize(request("p-declined"))
    await set_faults(provider)
    assert (await provider.authorize(request("p-declined"))).payment.state == DECLINED  # declined stays declined
    async with database.sessions() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 2
    assert declined.changed


async def test_the_same_payment_id_for_another_payment_is_refused(provider: PaymentProvider) -> None:
    await provider.authorize(request("p-reused"))
    for change, field in (
        ({"amount": 1}, "amount"),
        ({"currency": "EUR"}, "currency"),
        ({"card_token": "tok_x"}, "card_token"),
    ):
        error = await refused(provider.authorize(request("p-reused", **change)), InvalidArgument, "PAYMENT_ID_REUSED")
        assert set(error.field_violations) == {field}
    error = await refused(
        provider.authorize(request("p-reused", amount=2, card_token="tok_y")), InvalidArgument, "PAYMENT_ID_REUSED"
    )
    assert set(error.field_violations) == {"amount", "card_token"}
    assert (await provider.get("p-reused")).amount == 150_000


async def test_every_bad_field_is_named(provider: PaymentProvider, database: Database) -> None:
    bad = AuthorizeRequest(
        payment_id="no spaces", amount=0, currency="rub", card_token="4242 4242", description="x" * 101
    )
    error = await refused(provider.authorize(bad), InvalidArgument, "INVALID_ARGUMENT")
    assert set(error.field_violations) == {"payment_id", "amount", "currency", "card_token", "description"}
    for wrong in (
        {"payment_id": ""},
        {"payment_id": "p" * 65},
        {"amount": 10**12 + 1},
        {"amount": -5},
        {"currency": "RU"},
        {"card_token": ""},
        {"card_token": "t" * 65},
    ):
        values = {**dataclasses.asdict(request("p-ok")), **wrong}
        failed = await refused(provider.authorize(AuthorizeRequest(**values)), InvalidArgument, "INVALID_ARGUMENT")
        assert set(failed.field_violations) == set(wrong)
    limits = AuthorizeRequest(
        payment_id="A.z_0:9-" + "p" * 56,
        amount=10**12,
        currency="USD",
        card_token="T_-" + "t" * 61,
        description="d" * 100,
    )
    assert (await provider.authorize(limits)).payment.state == AUTHORIZED
    for call in (provider.capture("bad id"), provider.void(""), provider.get("x" * 65)):
        await refused(call, InvalidArgument, "INVALID_PAYMENT_ID")
    async with database.sessions() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 1


async def test_void_releases_an_authorisation_once(provider: PaymentProvider) -> None:
    await provider.authorize(request("p-void"))
    voided = await provider.void("p-void")
    assert voided.changed and voided.payment.state == VOIDED
    again = await provider.void("p-void")
    assert not again.changed and again.payment.updated_at == voided.payment.updated_at
    await refused(provider.capture("p-void"), FailedPrecondition, "PAYMENT_VOIDED")

    await provider.authorize(request("p-taken"))
    await provider.capture("p-taken")
    await refused(provider.void("p-taken"), FailedPrecondition, "PAYMENT_CAPTURED")
    assert (await provider.get("p-taken")).state == CAPTURED

    for call in (provider.capture("p-none"), provider.void("p-none"), provider.get("p-none")):
        await refused(call, NotFound, "PAYMENT_NOT_FOUND")


# ----------------------------------------------------------------- faults at work
async def test_a_lost_answer_is_done_and_asking_again_answers_it_without_doing_it_twice(
    provider: PaymentProvider, database: Database
) -> None:
    lost = counted("authorize", "lost_answer")
    await set_faults(provider, lost_answer_rate=1.0)
    await refused(provider.authorize(request("p-lost")), Unavailable, "ANSWER_LOST")
    done = await stored(database, "p-lost")
    assert done is not None and done.state == AUTHORIZED, "the work was not committed before the answer was lost"
    assert (await provider.get("p-lost")).authorization_code == done.authorization_code  # reads lose nothing
    await refused(provider.authorize(request("p-lost")), Unavailable, "ANSWER_LOST")  # the repeat, lost too
    assert counted("authorize", "lost_answer") == lost + 2

    await refused(provider.capture("p-lost"), Unavailable, "ANSWER_LOST")
    assert (await provider.get("p-lost")).state == CAPTURED

    await set_faults(provider)
    answered = await provider.authorize(request("p-lost"))
    assert not answered.changed
    assert (answered.payment.authorization_code, answered.payment.created_at) == (
        done.authorization_code,
        done.created_at,
    )
    recaptured = await provider.capture("p-lost")
    assert not recaptured.changed and recaptured.payment.state == CAPTURED
    async with database.sessions() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 1


async def test_an_outage_refuses_every_payment_call_and_changes_nothing(
    provider: PaymentProvider, database: Database
) -> None:
    held = (await provider.authorize(request("p-held"))).payment
    outages = counted("authorize", "outage"), counted("capture", "outage"), counted("void", "outage")
    await set_faults(provider, outage=True)
    for call in (
        provider.authorize(request("p-new")),
        provider.capture("p-held"),
        provider.void("p-held"),
        provider.get("p-held"),
        provider.authorize(AuthorizeRequest(payment_id="", amount=0, currency="", card_token="")),
    ):
        await refused(call, Unavailable, "PROVIDER_OUTAGE")
    assert await stored(database, "p-new") is None
    row = await stored(database, "p-held")
    assert row is not None and (row.state, row.updated_at) == (AUTHORIZED, held.updated_at)
    assert (counted("authorize", "outage"), counted("capture", "outage"), counted("void", "outage")) == (
        outages[0] + 2,
        outages[1] + 1,
        outages[2] + 1,
    )
    await set_faults(provider)
    assert (await provider.capture("p-held")).changed


async def test_latency_is_slept_before_the_work_with_no_connection_held(
    provider: PaymentProvider, database: Database
) -> None:
    await set_faults(provider, latency_ms=300)
    started_at = time.monotonic()
    call = asyncio.ensure_future(provider.authorize(request("p-slow")))
    await asyncio.sleep(0.1)
    assert not call.done()
    state = database.pool_state()
    assert state is None or state.checked_out == 0, "a connection is held during the injected latency"
    assert await stored(database, "p-slow") is None, "the work was done before the latency"
    assert (await call).payment.state == AUTHORIZED
    assert time.monotonic() - started_at >= 0.3


async def test_concurrent_calls_on_one_payment_resolve_once(provider: PaymentProvider) -> None:
    authorisations = await asyncio.gather(*(provider.authorize(request("p-race")) for _ in range(6)))
    assert sum(o.changed for o in authorisations) == 1
    assert len({o.payment.authorization_code for o in authorisations}) == 1

    captures: list[Outcome] = await asyncio.gather(*(provider.capture("p-race") for _ in range(8)))
    assert sum(o.changed for o in captures) == 1, "the payment was captured more than once"
    assert {o.payment.state for o in captures} == {CAPTURED}
    assert len({o.payment.updated_at for o in captures}) == 1

    await provider.authorize(request("p-race-2"))
    answers = await asyncio.gather(
        *(provider.capture("p-race-2") if i % 2 else provider.void("p-race-2") for i in range(8)),
        return_exceptions=True,
    )
    done = [a for a in answers if isinstance(a, Outcome) and a.changed]
    assert len(done) == 1
    winner = done[0].payment.state
    for answer in answers:
        if isinstance(answer, Outcome):
            assert answer.payment.state == winner
        else:
            assert isinstance(answer, FailedPrecondition), answer
            assert answer.reason == f"PAYMENT_{winner.upper()}"
    assert (await provider.get("p-race-2")).state == winner


# ----------------------------------------------------------------- the faults themselves
def test_faults_are_validated_where_they_enter() -> None:
    def faults(**given: Any) -> PaymentFaults:
        values: dict[str, Any] = {
            "latency_ms": 0,
            "decline_rate": 0.0,
            "lost_answer_rate": 0.0,
            "outage": False,
            "declining_cards": [],
        }
        return validate_payment_faults(**{**values, **given})

    assert faults(declining_cards=["tok_a", "tok_b", "tok_a"]).declining_cards == ("tok_a", "tok_b")
    assert faults(latency_ms=60_000, decline_rate=1.0, lost_answer_rate=1.0).latency_ms == 60_000
    for given, reason, field in (
        ({"latency_ms": -1}, "INVALID_LATENCY", "latency_ms"),
        ({"latency_ms": 60_001}, "INVALID_LATENCY", "latency_ms"),
        ({"decline_rate": 1.5}, "INVALID_RATE", "decline_rate"),
        ({"lost_answer_rate": float("nan")}, "INVALID_RATE", "lost_answer_rate"),
        ({"lost_answer_rate": -0.1}, "INVALID_RATE", "lost_answer_rate"),
        ({"declining_cards": ["ok", "not a token"]}, "INVALID_CARD_TOKEN", "declining_cards[1]"),
        (
            {"declining_cards": [f"t{i}" for i in range(MAX_DECLINING_CARDS + 1)]},
            "TOO_MANY_DECLINING_CARDS",
            "declining_cards",
        ),
    ):
        with pytest.raises(InvalidArgument) as failed:
            faults(**given)
        assert (failed.value.reason, list(failed.value.field_violations)) == (reason, [field])


async def test_stored_faults_reach_another_replica_and_seed_only_a_fresh_database(database: Database) -> None:
    initial = PaymentFaults(latency_ms=5, declining_cards=("tok_seed",))
    here, there = store_on(database, initial), store_on(database, PaymentFaults(outage=True))
    assert await here.current() == initial  # the first call reads (and here writes) the row
    assert here.version == 1
    assert await there.current() == initial, "the row wins over another replica's settings"
    assert await there.refresh() is False

    wanted = PaymentFaults(decline_rate=0.5, lost_answer_rate=0.25, outage=True, declining_cards=("tok_b",))
    await there.set(wanted)
    assert there.version == 2 and await there.current() == wanted
    assert await here.current() == initial  # until it refreshes
    assert await here.refresh() is True
    assert (await here.current(), here.version) == (wanted, 2)
    assert await here.get() == wanted
    async with database.sessions() as session:
        row = await session.get(StoredPaymentFaults, 1)
        assert row is not None and (row.version, row.declining_cards) == (2, ["tok_b"])

    stop = asyncio.Event()
    runner = asyncio.ensure_future(here.run(stop))
    await there.set(PaymentFaults())

    async def caught_up() -> bool:
        return here.version == 3

    await eventually(caught_up, timeout=3, what="the other replica's change applied by the refresh task")
    assert await here.current() == PaymentFaults()
    stop.set()
    await asyncio.wait_for(runner, 2)


# ----------------------------------------------------------------- over gRPC and the console
async def test_the_acquirer_over_grpc_and_the_console(nats_server: NatsServer, db_url: str) -> None:
    settings = make_settings(
        database_url=db_url,
        nats_url=nats_server.url,
        payments_declining_cards="tok_empty, tok_gone",
        payments_faults_refresh_seconds=0.1,
    )
    async with started(settings) as netsim, make_channel(netsim.grpc_target) as channel:
        stub = payments_pb2_grpc.PaymentProviderServiceStub(channel)
        faults = (await stub.GetPaymentFaults(payments_pb2.GetPaymentFaultsRequest())).faults
        assert list(faults.declining_cards) == ["tok_empty", "tok_gone"] and not faults.outage

        authorised = (
            await stub.Authorize(
                payments_pb2.AuthorizeRequest(
                    payment_id="grpc-1", amount=50_000, currency="RUB", card_token="tok_ok", description="Top-up"
                )
            )
        ).payment
        assert authorised.state == S.PAYMENT_STATE_AUTHORIZED and AUTH_CODE.match(authorised.authorization_code)
        assert authorised.created_at.seconds > 0
        captured = (await stub.Capture(payments_pb2.CaptureRequest(payment_id="grpc-1"))).payment
        assert captured.state == S.PAYMENT_STATE_CAPTURED
        assert (await stub.GetPayment(payments_pb2.GetPaymentRequest(payment_id="grpc-1"))).payment == captured
        declined = (
            await stub.Authorize(
                payments_pb2.AuthorizeRequest(payment_id="grpc-2", amount=1, currency="RUB", card_token="tok_gone")
            )
        ).payment
        assert (declined.state, declined.decline_reason, declined.authorization_code) == (
            S.PAYMENT_STATE_DECLINED,
            "insufficient_funds",
            "",
        )

        for call, code, reason in (
            (
                stub.Authorize(payments_pb2.AuthorizeRequest(payment_id="grpc-3")),
                "INVALID_ARGUMENT",
                "INVALID_ARGUMENT",
            ),
            (stub.Capture(payments_pb2.CaptureRequest(payment_id="grpc-2")), "FAILED_PRECONDITION", "PAYMENT_DECLINED"),
            (stub.Void(payments_pb2.VoidRequest(payment_id="nobody")), "NOT_FOUND", "PAYMENT_NOT_FOUND"),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as failed:
                await call
            error = read_error(failed.value)
            assert (error.code.name, error.reason) == (code, reason)
            if code == "INVALID_ARGUMENT":
                assert set(error.field_violations) == {"amount", "currency", "card_token"}

        bad = payments_pb2.PaymentFaults(decline_rate=2.0)
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await stub.SetPaymentFaults(payments_pb2.SetPaymentFaultsRequest(faults=bad))
        assert read_error(failed.value).reason == "INVALID_RATE"
        outage = payments_pb2.PaymentFaults(outage=True)
        assert (await stub.SetPaymentFaults(payments_pb2.SetPaymentFaultsRequest(faults=outage))).faults == outage
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await stub.Authorize(
                payments_pb2.AuthorizeRequest(payment_id="grpc-4", amount=1, currency="RUB", card_token="tok_ok")
            )
        assert (read_error(failed.value).code, read_error(failed.value).reason) == (
            grpc.StatusCode.UNAVAILABLE,
            "PROVIDER_OUTAGE",
        )

        # The console: faults as JSON (a PUT replaces them all), the recent payments, the page.
        assert (await netsim.http.get("/payments/faults")).json()["outage"] is True
        put = await netsim.http.put("/payments/faults", json={"lost_answer_rate": 0.5})
        assert put.status_code == 200, put.text
        assert put.json() == {
            "latency_ms": 0,
            "decline_rate": 0.0,
            "lost_answer_rate": 0.5,
            "outage": False,
            "declining_cards": [],
        }
        assert (await netsim.http.put("/payments/faults", json={"declining_cards": ["a b"]})).status_code == 422
        listed = (await netsim.http.get("/payments", params={"limit": 10})).json()["payments"]
        assert [(p["payment_id"], p["state"]) for p in listed] == [("grpc-2", "declined"), ("grpc-1", "captured")]
        assert listed[1]["description"] == "Top-up" and listed[1]["amount"] == 50_000
        page = await netsim.http.get("/ui/payments")
        assert page.status_code == 200 and "grpc-1" in page.text and 'value="0.5"' in page.text
        form = await netsim.http.post(
            "/ui/payments", data={"latency_ms": "0", "decline_rate": "1", "lost_answer_rate": "0", "outage": "on"}
        )
        assert form.status_code == 303
        assert await netsim.app.payments.faults.get() == PaymentFaults(decline_rate=1.0, outage=True)
        refused_form = await netsim.http.post("/ui/payments", data={"latency_ms": "soon"})
        assert refused_form.status_code == 422 and "Not saved" in refused_form.text

        health = health_pb2_grpc.HealthStub(channel)
        answer = await health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME))
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
