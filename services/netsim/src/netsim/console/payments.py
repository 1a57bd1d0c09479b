"""The console's acquirer routes: its fault injection (JSON and a page with a form) and the recent payments."""

from __future__ import annotations

from html import escape
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from netsim.console.deps import PaymentFaultsDep, SessionDep
from netsim.console.pages import STYLE
from netsim.console.schemas import PaymentFaultsBody, PaymentOut, PaymentsOut
from netsim.handsets import MAX_LIMIT, list_limit
from netsim.payments.faults import PaymentFaults, validate_payment_faults
from netsim.payments.service import list_payments
from simfleet_runtime.errors import InvalidArgument

router = APIRouter(tags=["payments"])

BAD_FAULTS: dict[int | str, dict[str, Any]] = {
    422: {"description": "a fault out of range or a bad card token (application/problem+json)"}
}
Limit = Annotated[int | None, Query(ge=1, le=MAX_LIMIT, description="how many payments, newest first (default 50)")]
PAGE_PAYMENTS = 100


def _validated(body: PaymentFaultsBody) -> PaymentFaults:
    return validate_payment_faults(
        latency_ms=body.latency_ms,
        decline_rate=body.decline_rate,
        lost_answer_rate=body.lost_answer_rate,
        outage=body.outage,
        declining_cards=body.declining_cards,
    )


@router.get("/payments/faults", response_model=PaymentFaultsBody)
async def get_faults(store: PaymentFaultsDep) -> PaymentFaultsBody:
    return PaymentFaultsBody.of(await store.get())


@router.put("/payments/faults", response_model=PaymentFaultsBody, responses=BAD_FAULTS)
async def put_faults(body: PaymentFaultsBody, store: PaymentFaultsDep) -> PaymentFaultsBody:
    return PaymentFaultsBody.of(await store.set(_validated(body)))


@router.get("/payments", response_model=PaymentsOut)
async def payments(session: SessionDep, limit: Limit = None) -> PaymentsOut:
    found = await list_payments(session, limit=list_limit(limit))
    return PaymentsOut(payments=[PaymentOut.of(p) for p in found])


def _form(faults: PaymentFaultsBody) -> str:
    checked = " checked" if faults.outage else ""
    cards = escape(", ".join(faults.declining_cards))
    return (
        '<form method="post" action="/ui/payments"><table>'
        '<tr><th><label for="latency_ms">latency_ms</label></th>'
        f'<td><input id="latency_ms" name="latency_ms" value="{faults.latency_ms}" inputmode="numeric"></td></tr>'
        '<tr><th><label for="decline_rate">decline_rate</label></th>'
        f'<td><input id="decline_rate" name="decline_rate" value="{faults.decline_rate:g}" inputmode="decimal">'
        ' <span class="muted">0.0 to 1.0, declined do_not_honor</span></td></tr>'
        '<tr><th><label for="lost_answer_rate">lost_answer_rate</label></th>'
        f'<td><input id="lost_answer_rate" name="lost_answer_rate" value="{faults.lost_answer_rate:g}"'
        ' inputmode="decimal"> <span class="muted">0.0 to 1.0, done but answered UNAVAILABLE</span></td></tr>'
        '<tr><th><label for="outage">outage</label></th>'
        f'<td><input id="outage" name="outage" type="checkbox" value="on"{checked}></td></tr>'
        '<tr><th><label for="declining_cards">declining_cards</label></th>'
        f'<td><input id="declining_cards" name="declining_cards" value="{cards}" size="40">'
        ' <span class="muted">comma-separated card tokens, declined insufficient_funds</span></td></tr>'
        "</table><p><button>Save</button></p></form>"
    )


def _payments_page(faults: PaymentFaultsBody, version: int | None, payments: list[PaymentOut], error: str = "") -> str:
    rows = "".join(
        f"<tr><td><time>{escape(p.created_at)}</time></td><td>{escape(p.payment_id)}</td>"
        f"<td>{p.amount:,} {escape(p.currency)}</td><td>{escape(p.card_token)}</td>"
        f"<td>{escape(p.state)}{' (' + escape(p.decline_reason) + ')' if p.decline_reason else ''}</td>"
        f"<td>{escape(p.authorization_code or '')}</td><td>{escape(p.description)}</td></tr>"
        for p in payments
    )
    table = (
        "<table><tr><th>created</th><th>payment</th><th>amount</th><th>card</th><th>state</th><th>code</th>"
        f"<th>description</th></tr>{rows}</table>"
        if rows
        else "<p>No payment yet.</p>"
    )
    problem = f'<p role="alert"><strong>Not saved:</strong> {escape(error)}</p>' if error else ""
    body = (
        f'{problem}<h2>Faults <span class="muted">version {version or 0}</span></h2>{_form(faults)}'
        f'<h2>Recent payments <span class="muted">newest first</span></h2>{table}'
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Payment provider</title><style>{STYLE}</style></head>"
        f"<body><h1>Payment provider</h1>{body}"
        '<p class="muted"><a href="/">all handsets and mailboxes</a> · JSON: /payments/faults, /payments</p>'
        "</body></html>\n"
    )


async def _recent(session: SessionDep) -> list[PaymentOut]:
    return [PaymentOut.of(p) for p in await list_payments(session, limit=PAGE_PAYMENTS)]


@router.get("/ui/payments", response_class=HTMLResponse, summary="The acquirer's faults and recent payments (HTML)")
async def payments_page(store: PaymentFaultsDep, session: SessionDep) -> HTMLResponse:
    faults = PaymentFaultsBody.of(await store.get())
    return HTMLResponse(_payments_page(faults, store.version, await _recent(session)))


@router.post(
    "/ui/payments",
    response_class=HTMLResponse,
    response_model=None,
    summary="Change the acquirer's faults (HTML form)",
)
async def payments_form(
    request: Request, store: PaymentFaultsDep, session: SessionDep
) -> HTMLResponse | RedirectResponse:
    fields = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)

    def number(name: str, kind: type[int] | type[float]) -> Any:
        text = (fields.get(name) or ["0"])[0].strip() or "0"
        try:
            return kind(text)
        except ValueError:
            raise InvalidArgument(f"{name} is not a number", field_violations={name: "a number"}) from None

    try:
        cards = [c.strip() for c in (fields.get("declining_cards") or [""])[0].split(",") if c.strip()]
        await store.set(
            validate_payment_faults(
                latency_ms=number("latency_ms", int),
                decline_rate=number("decline_rate", float),
                lost_answer_rate=number("lost_answer_rate", float),
                outage=(fields.get("outage") or [""])[0] == "on",
                declining_cards=cards,
            )
        )
    except InvalidArgument as exc:
        shown = PaymentFaultsBody.of(await store.get())
        page = _payments_page(shown, store.version, await _recent(session), exc.message)
        return HTMLResponse(page, status_code=422)
    return RedirectResponse("/ui/payments", status_code=303)
