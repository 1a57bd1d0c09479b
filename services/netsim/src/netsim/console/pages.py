"""The console's HTML pages for people (see :mod:`netsim.console`). Every value is escaped."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from netsim.console.deps import DatabaseDep, SessionDep
from netsim.smsc.models import SmsView
from netsim.smsc.service import list_handsets, list_sms
from netsim.smtp.addresses import mailbox_key
from netsim.smtp.models import Mail
from netsim.smtp.service import list_mail, list_mailboxes
from simfleet_runtime.timestamps import iso
from simfleet_runtime.validation import normalize_msisdn

router = APIRouter(default_response_class=HTMLResponse)

INDEX_ENTRIES = 25
INDEX_LATEST = 3
PAGE_MESSAGES = 100

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1d2733; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
section.box { border: 1px solid #d5dbe3; border-radius: 6px; padding: .6rem 1rem; margin: .8rem 0; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; vertical-align: top; padding: .25rem .6rem; border-bottom: 1px solid #eef1f5; }
time, .muted { color: #66707c; font-size: .9em; white-space: nowrap; }
pre { white-space: pre-wrap; margin: 0; font-family: inherit; }
"""


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="refresh" content="5">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}"
        '<p class="muted"><a href="/">all handsets and mailboxes</a> · <a href="/ui/usage">usage generator</a>'
        ' · <a href="/ui/payments">payment provider</a>'
        " · refreshes every 5 s</p></body></html>\n"
    )


def _sms_rows(messages: Iterable[SmsView]) -> str:
    rows = "".join(
        f"<tr><td><time>{escape(iso(m.delivered_at))}</time></td><td>{escape(m.sender)}</td>"
        f"<td><pre>{escape(m.text)}</pre></td></tr>"
        for m in messages
    )
    return f"<table><tr><th>time</th><th>sender</th><th>text</th></tr>{rows}</table>" if rows else "<p>No SMS.</p>"


def _mail_rows(messages: Iterable[Mail]) -> str:
    rows = "".join(
        f"<tr><td><time>{escape(iso(m.received_at))}</time></td><td>{escape(m.from_address)}</td>"
        f"<td><strong>{escape(m.subject)}</strong><pre>{escape(m.body)}</pre></td></tr>"
        for m in messages
    )
    return f"<table><tr><th>time</th><th>from</th><th>message</th></tr>{rows}</table>" if rows else "<p>No mail.</p>"


def _link(prefix: str, name: str) -> str:
    return f'<a href="/ui/{prefix}/{quote(name, safe="@")}">{escape(name)}</a>'


def _boxes(items: Sequence[tuple[str, int, str]], empty: str) -> str:
    if not items:
        return f"<p>{escape(empty)}</p>"
    return "".join(
        f'<section class="box"><h3>{title} <span class="muted">{count} message{"" if count == 1 else "s"}</span></h3>'
        f"{table}</section>"
        for title, count, table in items
    )


@router.get("/", summary="Every handset and mailbox with its latest messages (HTML)")
async def index(session: SessionDep, database: DatabaseDep) -> HTMLResponse:
    handsets = []
    for handset in await list_handsets(session, limit=INDEX_ENTRIES):
        latest = await list_sms(database, msisdn=handset.msisdn, limit=INDEX_LATEST)
        handsets.append((_link("handsets", handset.msisdn), handset.messages, _sms_rows(latest)))
    mailboxes = []
    for mailbox in await list_mailboxes(session, limit=INDEX_ENTRIES):
        latest_mail = await list_mail(session, address=mailbox.address, limit=INDEX_LATEST)
        mailboxes.append((_link("mailboxes", mailbox.address), mailbox.messages, _mail_rows(latest_mail)))
    body = (
        "<h2>Handsets</h2>"
        + _boxes(handsets, "No handset has received an SMS yet.")
        + "<h2>Mailboxes</h2>"
        + _boxes(mailboxes, "No mailbox has received mail yet.")
    )
    return HTMLResponse(_page("SIMfleet network simulator", body))


@router.get("/ui/handsets/{msisdn}", summary="One handset's inbox (HTML)")
async def handset_page(msisdn: str, database: DatabaseDep) -> HTMLResponse:
    number = normalize_msisdn(msisdn, field="msisdn")
    messages = await list_sms(database, msisdn=number, limit=PAGE_MESSAGES)
    return HTMLResponse(_page(f"Handset {number}", _sms_rows(messages)))


@router.get("/ui/mailboxes/{address:path}", summary="One mailbox (HTML)")
async def mailbox_page(address: str, session: SessionDep) -> HTMLResponse:
    key = mailbox_key(address)
    messages = await list_mail(session, address=key, limit=PAGE_MESSAGES)
    return HTMLResponse(_page(f"Mailbox {key}", _mail_rows(messages)))
