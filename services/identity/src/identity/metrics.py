"""identity's business figures (docs/architecture.md § Metrics).

The label values the code uses start at 0 (below): ``rate()`` and
``increase()`` then see the first event of each series, and the ratios in the
dashboards and alert rules always have their series.
"""

from __future__ import annotations

from prometheus_client import Counter

OTP_SENT = Counter(
    "simfleet_identity_otp_sent_total", "One-time codes sent, by channel and purpose.", ["channel", "purpose"]
)
OTP_VERIFIED = Counter(
    "simfleet_identity_otp_verifications_total",
    "One-time code checks, by result (succeeded, invalid, expired, locked).",
    ["result"],
)
OTP_THROTTLED = Counter(
    "simfleet_identity_otp_throttled_total", "Code requests refused by a send limit, by scope.", ["scope"]
)
SIGN_INS = Counter("simfleet_identity_sign_ins_total", "Sign-in attempts, by method and result.", ["method", "result"])
SESSIONS_REVOKED = Counter("simfleet_identity_sessions_revoked_total", "Sessions ended, by reason.", ["reason"])
EMAILS = Counter("simfleet_identity_emails_total", "Emails handed to the SMTP relay, by result.", ["result"])

for _result in ("succeeded", "invalid", "expired", "locked"):
    OTP_VERIFIED.labels(_result)
for _channel in ("sms", "email"):
    OTP_SENT.labels(_channel, "sign_in")
for _scope in ("phone_client", "phone", "client"):
    OTP_THROTTLED.labels(_scope)
for _result in ("sent", "deferred", "rejected"):
    EMAILS.labels(_result)
