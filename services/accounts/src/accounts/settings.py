"""accounts' configuration: every knob, from ``ACCOUNTS_*`` environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from simfleet_runtime.auth import DEFAULT_AUDIENCE, DEFAULT_ISSUER
from simfleet_runtime.settings import ServiceSettings


class AccountsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ACCOUNTS_", extra="ignore")

    service_name: str = "accounts"
    database_url: str = "sqlite+aiosqlite:///./accounts.db"
    grpc_port: int = 50071
    metrics_port: int = 9107

    operator_key: SecretStr = Field(
        SecretStr(""), description="back-office callers present it; empty refuses every back-office call"
    )
    identity_target: str = Field("127.0.0.1:50051", description="identity's gRPC address (users, JWKS)")
    identity_timeout_seconds: float = Field(5.0, description="deadline of each call to identity")
    inventory_target: str = Field("127.0.0.1:50081", description="inventory's gRPC address (what a node holds)")
    inventory_timeout_seconds: float = Field(
        1.0, gt=0, description="deadline of each call to inventory; no answer in time refuses a node's deletion"
    )

    # Verifying callers' access tokens (issued by identity).
    jwt_issuer: str = DEFAULT_ISSUER
    jwt_audience: str = DEFAULT_AUDIENCE
    access_token_ttl_seconds: float = Field(600.0, description="identity's access token lifetime (revocations kept)")
    jwks_refresh_seconds: float = Field(30.0, description="at most one JWKS fetch per interval on an unknown key")

    # The hierarchy.
    max_tree_depth: int = Field(12, description="levels below the company a node may sit at")
    max_nodes_per_customer: int = Field(10000, description="nodes one customer may hold")
