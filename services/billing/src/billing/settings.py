"""billing's configuration: every knob, from ``BILLING_*`` environment variables."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from billing.money import EXPONENTS
from simfleet_runtime.auth import DEFAULT_AUDIENCE, DEFAULT_ISSUER
from simfleet_runtime.settings import ServiceSettings


class BillingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BILLING_", extra="ignore")

    service_name: str = "billing"
    database_url: str = "sqlite+aiosqlite:///./billing.db"
    grpc_port: int = 50091
    metrics_port: int = 9109
    role: Literal["all", "api", "rater"] = Field(
        "all",
        description=(
            "what this process runs: all of billing; `api`, everything but rating the network's usage; or `rater`, "
            "only that (run apart, rating's batches never hold up the API's reads; its own Deployment in a cluster)"
        ),
    )

    operator_key: SecretStr = Field(
        SecretStr(""), description="the platform's automation presents it; empty refuses every call by key"
    )
    identity_target: str = Field("127.0.0.1:50051", description="identity's gRPC address (JWKS)")
    identity_timeout_seconds: float = Field(5.0, description="deadline of each call to identity")

    # Verifying callers' access tokens (issued by identity).
    jwt_issuer: str = DEFAULT_ISSUER
    jwt_audience: str = DEFAULT_AUDIENCE
    access_token_ttl_seconds: float = Field(600.0, description="identity's access token lifetime (revocations kept)")
    jwks_refresh_seconds: float = Field(30.0, description="at most one JWKS fetch per interval on an unknown key")

    # The ledger.
    default_currency: str = Field(
        "RUB", pattern=r"^[A-Z]{3}$", description="ISO 4217: the currency of a new personal account's ledger account"
    )
    default_settlement_method: Literal["prepaid", "postpaid", "credit"] = Field(
        "prepaid", description="how a new personal account settles until it is changed (credit limit 0)"
    )
    ledger_sweep_seconds: float = Field(
        30.0,
        gt=0,
        description="how often settlement changes that came due are applied and expired pending entries voided",
    )

    # Payments (BI-14) through the payment provider (netsim's simulated acquirer).
    payment_provider_target: str = Field("127.0.0.1:50061", description="the payment provider's gRPC address")
    payment_provider_timeout_seconds: float = Field(5.0, gt=0, description="deadline of each call to the provider")
    payment_max_amount: int = Field(
        100_000_000, gt=0, description="the most one payment may be, in minor units (1,000,000.00 RUB)"
    )
    payment_retry_seconds: float = Field(
        2.0, gt=0, description="the first pause before asking the provider again about an unanswered payment"
    )
    payment_give_up_hours: float = Field(
        24.0, gt=0, description="a payment the provider has not settled after this long fails"
    )
    payments_interval_seconds: float = Field(
        5.0, gt=0, description="how often pending payments are retried and automatic payments checked"
    )
    holds_interval_seconds: float = Field(
        5.0, gt=0, description="how often accounts are compared with their floors (financial holds placed or lifted)"
    )
    limits_interval_seconds: float = Field(
        10.0, gt=0, description="how often spending limits are compared with their lines' spend (warn or block)"
    )
    limits_sms_sender: str = Field(
        "SIMfleet", min_length=1, max_length=16, description="the sender shown on spending limits' SMS warnings"
    )
    fees_interval_seconds: float = Field(
        300.0, gt=0, description="how often lines' monthly fees are charged for the days due (a day at a time)"
    )
    # Promised payments (BI-9): a temporary credit, taken back when it falls due.
    promised_max_amount: int = Field(
        300_000, gt=0, description="the most one promised payment may be, in minor units (3,000.00 RUB)"
    )
    promised_days: float = Field(7.0, gt=0, description="how long a promised payment lasts before it is taken back")
    promised_per_30_days: int = Field(
        3, gt=0, description="how many promised payments one personal account may take in any 30 days"
    )
    promised_interval_seconds: float = Field(
        30.0, gt=0, description="how often promised payments that fell due are taken back"
    )
    # Receipts of data package purchases, emailed through the SMTP relay (netsim's sink locally), as identity.
    smtp_host: str = Field("127.0.0.1", description="the SMTP relay's host")
    smtp_port: int = Field(2525, description="the SMTP relay's port")
    smtp_from: str = Field("SIMfleet <no-reply@simfleet.local>", description="who receipts come from")
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(10.0, gt=0, description="deadline of each conversation with the relay")
    receipts_interval_seconds: float = Field(
        5.0, gt=0, description="how often due receipts are emailed (and failed ones tried again, pausing longer)"
    )
    rating_batches_per_transaction: int = Field(
        4,
        ge=1,
        le=16,
        description=(
            "netsim's usage batches (up to 1,000 records each) rated together in one transaction: the lines, "
            "allowances and packages they need are read, and the transaction committed, once for them all"
        ),
    )
    catalogue_refresh_seconds: float = Field(
        60.0, gt=0, description="how often the tariff catalogue is read again (a new version is seen within it)"
    )

    @field_validator("default_currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in EXPONENTS:
            raise ValueError(f"not a currency the ledger keeps: one of {', '.join(sorted(EXPONENTS))}")
        return value
