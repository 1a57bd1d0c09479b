"""The console's usage routes: the generator's settings (JSON and a page with a form) and its counters."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from netsim.console.deps import UsageGeneratorDep, UsageSettingsDep
from netsim.console.pages import STYLE
from netsim.console.schemas import UsageCountersOut, UsageSettingsBody
from netsim.usage.settings import UsageSettings, validate_usage_settings
from simfleet_runtime.errors import InvalidArgument

router = APIRouter(tags=["usage"])

BAD_SETTINGS: dict[int | str, dict[str, Any]] = {
    422: {"description": "a setting out of range or a bad number prefix (application/problem+json)"}
}
_NUMBERS = ("records_per_second", "voice_weight", "sms_weight", "data_weight", "roaming_share", "international_share")


def _validated(body: UsageSettingsBody) -> UsageSettings:
    return validate_usage_settings(
        records_per_second=body.records_per_second,
        voice_weight=body.voice_weight,
        sms_weight=body.sms_weight,
        data_weight=body.data_weight,
        roaming_share=body.roaming_share,
        international_share=body.international_share,
        msisdn_prefixes=body.msisdn_prefixes,
    )


def _counters(store: UsageSettingsDep, generator: UsageGeneratorDep) -> UsageCountersOut:
    return UsageCountersOut.of(generator.counts, generating=generator.lease.held, settings_version=store.version)


@router.get("/usage/settings", response_model=UsageSettingsBody)
async def get_settings(store: UsageSettingsDep) -> UsageSettingsBody:
    return UsageSettingsBody.of(await store.get())


@router.put("/usage/settings", response_model=UsageSettingsBody, responses=BAD_SETTINGS)
async def put_settings(body: UsageSettingsBody, store: UsageSettingsDep) -> UsageSettingsBody:
    return UsageSettingsBody.of(await store.set(_validated(body)))


@router.get("/usage/counters", response_model=UsageCountersOut)
async def counters(store: UsageSettingsDep, generator: UsageGeneratorDep) -> UsageCountersOut:
    return _counters(store, generator)


def _form(settings: UsageSettingsBody) -> str:
    rows = "".join(
        f'<tr><th><label for="{name}">{name}</label></th>'
        f'<td><input id="{name}" name="{name}" value="{getattr(settings, name):g}" inputmode="decimal"></td></tr>'
        for name in _NUMBERS
    )
    prefixes = escape(", ".join(settings.msisdn_prefixes))
    rows += (
        '<tr><th><label for="msisdn_prefixes">msisdn_prefixes</label></th>'
        f'<td><input id="msisdn_prefixes" name="msisdn_prefixes" value="{prefixes}" size="40">'
        ' <span class="muted">comma-separated, e.g. +79991; empty: every subscriber</span></td></tr>'
    )
    return f'<form method="post" action="/ui/usage"><table>{rows}</table><p><button>Save</button></p></form>'


def _usage_page(settings: UsageSettingsBody, counters: UsageCountersOut, error: str = "") -> str:
    records = "".join(f"<tr><td>{escape(k)}</td><td>{v:,}</td></tr>" for k, v in counters.records.items())
    state = "generating (holds the lease)" if counters.generating else "not generating here"
    problem = f'<p role="alert"><strong>Not saved:</strong> {escape(error)}</p>' if error else ""
    body = (
        f'{problem}<h2>Settings <span class="muted">version {counters.settings_version}</span></h2>'
        f"{_form(settings)}"
        f'<h2>This process <span class="muted">{escape(state)}</span></h2>'
        f"<table><tr><th>kind</th><th>records published</th></tr>{records}</table>"
        f"<p>{counters.batches:,} batches acknowledged, {counters.publish_failures:,} dropped after retries.</p>"
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Usage generator</title><style>{STYLE}</style></head>"
        f"<body><h1>Usage generator</h1>{body}"
        '<p class="muted"><a href="/">all handsets and mailboxes</a> · JSON: /usage/settings, /usage/counters</p>'
        "</body></html>\n"
    )


@router.get("/ui/usage", response_class=HTMLResponse, summary="The usage generator's settings and counters (HTML)")
async def usage_page(store: UsageSettingsDep, generator: UsageGeneratorDep) -> HTMLResponse:
    settings = UsageSettingsBody.of(await store.get())
    return HTMLResponse(_usage_page(settings, _counters(store, generator)))


@router.post(
    "/ui/usage",
    response_class=HTMLResponse,
    response_model=None,
    summary="Change the usage generator's settings (HTML form)",
)
async def usage_form(
    request: Request, store: UsageSettingsDep, generator: UsageGeneratorDep
) -> HTMLResponse | RedirectResponse:
    fields = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    values: dict[str, Any] = {}
    try:
        for name in _NUMBERS:
            text = (fields.get(name) or ["0"])[0].strip() or "0"
            try:
                values[name] = float(text)
            except ValueError:
                raise InvalidArgument(f"{name} is not a number", field_violations={name: "a number"}) from None
        prefixes = [p.strip() for p in (fields.get("msisdn_prefixes") or [""])[0].split(",") if p.strip()]
        await store.set(validate_usage_settings(**values, msisdn_prefixes=prefixes))
    except InvalidArgument as exc:
        shown = UsageSettingsBody.of(store.current)
        return HTMLResponse(_usage_page(shown, _counters(store, generator), exc.message), status_code=422)
    return RedirectResponse("/ui/usage", status_code=303)
