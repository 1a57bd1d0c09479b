"""The HTTP console: what handsets and mailboxes received and what the HLR holds, for people and tests.

JSON (``application/json``):

* ``GET /handsets`` — handsets that received SMS, most recently active first.
* ``GET /handsets/{msisdn}/sms?limit=50`` — ``{"msisdn", "messages": [{"id", "to",
  "sender", "text", "time"}]}``, newest first.
* ``GET /mailboxes`` — mailboxes that received mail, most recently active first.
* ``GET /mailboxes/{address}?limit=50`` — ``{"address", "messages": [{"id", "to",
  "from", "subject", "body", "time"}]}``, newest first.
* ``GET /hlr/subscribers/{msisdn}`` — the HLR's subscriber with this number: ``{"imsi",
  "msisdn", "iccid", "barrings", "apns", "forwarding", "version", "registered_at",
  "updated_at"}``; 404 when none has it.
* ``GET /hlr/faults`` and ``PUT /hlr/faults`` — the HLR's fault injection, ``{"latency_ms",
  "failure_rate", "outage", "failing_msisdns"}``, as stored for every replica; a PUT replaces
  every field (absent ones are off), applies it in this process at once (the others within
  ``hlr_faults_refresh_seconds``) and answers what is now in force.
* ``GET /usage/settings`` and ``PUT /usage/settings`` — the usage generator's settings,
  ``{"records_per_second", "voice_weight", "sms_weight", "data_weight", "roaming_share",
  "international_share", "msisdn_prefixes"}``, stored for every replica like the faults; a PUT
  replaces every field (absent ones are 0 or none).
* ``GET /usage/counters`` — what this process published since it started: ``{"records": {kind:
  count}, "batches", "publish_failures", "generating", "settings_version"}``.
* ``GET /payments/faults`` and ``PUT /payments/faults`` — the simulated acquirer's fault injection,
  ``{"latency_ms", "decline_rate", "lost_answer_rate", "outage", "declining_cards"}``, stored for
  every replica like the HLR's; a PUT replaces every field (absent ones are off).
* ``GET /payments?limit=50`` — the acquirer's most recent payments, newest first: ``{"payments":
  [{"payment_id", "amount", "currency", "card_token", "description", "state", "decline_reason",
  "authorization_code", "created_at", "updated_at"}]}``.
* ``GET /healthz`` — 200 ``{"status": "ok"}`` while the database answers, else 503.

HTML for people lives under ``/`` and the ``/ui/`` prefix (no content
negotiation, so a URL always gives the same kind of answer):

* ``GET /`` — every handset and mailbox with its latest messages.
* ``GET /ui/handsets/{msisdn}`` and ``GET /ui/mailboxes/{address}`` — one inbox.
* ``GET /ui/usage`` — the usage generator's settings (a form, ``POST /ui/usage``) and counters.
* ``GET /ui/payments`` — the acquirer's faults (a form, ``POST /ui/payments``) and recent payments.

Times are ISO 8601 in UTC (``2026-01-02T03:04:05.678901Z``); ``limit`` is 1..500
(50 when absent). Errors are ``application/problem+json`` (RFC 9457): a bad
number, address, limit or fault is 422.
"""
