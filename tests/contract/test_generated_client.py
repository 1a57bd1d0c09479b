"""A client generated from the live /openapi.json (openapi-python-client), used as a frontend team would.

The client is generated into a temporary directory at test time and a whole scenario runs through it with no
hand-written HTTP: sign in with a password, page through the lines, block one with an Idempotency-Key (and
replay it), follow the operation to its end, read its items. If the generator cannot digest the document, or
the client cannot parse an answer, the document is what needs fixing.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from simfleet_devstack.platform import Platform
from tests.contract.conftest import ContractTenant, import_contract_lines, onboard_contract_tenant

pytestmark = pytest.mark.e2e

PACKAGE = "simfleet_generated_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture(scope="module")
def tenant(platform: Platform) -> ContractTenant:
    return onboard_contract_tenant(platform, 1)


@pytest.fixture(scope="module")
def lines(platform: Platform, tenant: ContractTenant) -> list[str]:
    return import_contract_lines(platform, tenant, 5)


@pytest.fixture(scope="module")
def generated(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The client package, generated from what the running gateway serves."""
    root = tmp_path_factory.mktemp("generated-client")
    config = root / "config.yaml"
    # No formatter run over the generated code; PDFs (a filled form) read as the generator's File, as a frontend
    # team's configuration would say.
    config.write_text("post_hooks: []\ncontent_type_overrides:\n  application/pdf: application/octet-stream\n")
    result = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--url",
            f"{platform.gateway_url}/openapi.json",
            "--output-path",
            str(root / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Warnings mean parts of the document were skipped: the document must be fully usable.
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(root))
    try:
        yield Generated()
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


class Generated:
    """``generated.api("lines.list_lines")``, ``generated.model("LinesPage")``."""

    def __init__(self) -> None:
        self.package = importlib.import_module(PACKAGE)
        self.models = importlib.import_module(f"{PACKAGE}.models")

    def api(self, name: str) -> ModuleType:
        return importlib.import_module(f"{PACKAGE}.api.{name}")

    def model(self, name: str) -> Any:
        return getattr(self.models, name)


def test_a_generated_client_signs_in_pages_blocks_and_follows(
    platform: Platform, tenant: ContractTenant, lines: list[str], generated: Generated
) -> None:
    anonymous = generated.package.Client(base_url=platform.gateway_url, raise_on_unexpected_status=True)
    sign_in = generated.api("auth.sign_in_with_password")
    tokens = sign_in.sync(
        client=anonymous, body=generated.model("PasswordSignInRequest")(phone=tenant.phone, password=tenant.password)
    )
    assert isinstance(tokens, generated.model("TokensResponse")), tokens
    client = generated.package.AuthenticatedClient(
        base_url=platform.gateway_url, token=tokens.access_token, raise_on_unexpected_status=True
    )

    me = generated.api("me.get_me").sync(client=client)
    assert me.customer_id == tenant.customer_id

    # Every line, two at a time, each once, in order.
    list_lines = generated.api("lines.list_lines")
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = list_lines.sync(client=client, limit=2, **({"cursor": cursor} if cursor else {}))
        assert isinstance(page, generated.model("LinesPage")), page
        seen += [line.msisdn for line in page.items]
        pages += 1
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == sorted(lines)
    assert pages == 3

    # Block the first line; the same Idempotency-Key again is the same operation, replayed. Each type's
    # params are a model of their own, with its enums: the client is typed from the discriminated union.
    create_operation = generated.api("line_operations.create_operation")
    body = generated.model("BlockOperation").from_dict(
        {"type": "block", "lines": [lines[0]], "params": {"block_type": "voluntary"}}
    )
    assert isinstance(body.params, generated.model("BlockParams")), body.params
    assert body.params.block_type == generated.model("BlockParamsBlockType").VOLUNTARY
    key = f"contract-block-{time.time_ns()}"
    accepted = create_operation.sync_detailed(client=client, body=body, idempotency_key=key)
    assert accepted.status_code == 202, accepted.content
    operation = accepted.parsed
    assert isinstance(operation, generated.model("OperationResponse")), operation
    assert accepted.headers["location"] == f"/v1/operations/{operation.id}"
    replayed = create_operation.sync_detailed(client=client, body=body, idempotency_key=key)
    assert replayed.status_code == 200, replayed.content
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.parsed.id == operation.id

    # Follow it to its end.
    get_operation = generated.api("line_operations.get_operation")
    deadline = time.monotonic() + 60
    while operation.state.value in ("scheduled", "running"):
        assert time.monotonic() < deadline, f"operation {operation.id} still {operation.state.value}"
        time.sleep(0.2)
        operation = get_operation.sync(operation.id, client=client)
    assert operation.state.value == "completed", operation
    assert (operation.counts.total, operation.counts.succeeded) == (1, 1)

    items = generated.api("line_operations.list_operation_items").sync(operation.id, client=client)
    assert isinstance(items, generated.model("ItemsPage")), items
    assert [(item.msisdn, item.state.value) for item in items.items] == [(lines[0], "succeeded")]

    line = generated.api("lines.get_line").sync(lines[0], client=client)
    assert line.state.value == "blocked"
