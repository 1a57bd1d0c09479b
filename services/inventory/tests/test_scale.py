"""The scale seed writes lines the rest of inventory reads like any other."""

from __future__ import annotations

from inventory.admin.scale import seed_lines
from inventory.lines.service import LineFilter

from .conftest import Harness  # type: ignore[import-not-found]


async def test_seeded_lines_are_lines_like_any_other(harness: Harness) -> None:
    settings = harness.inventory.runtime.settings
    tree = harness.tree
    kwargs = {
        "customer_id": tree.customer,
        "node_id": tree.south,
        "personal_account_id": tree.south_account,
        "count": 45,
        "msisdn_prefix": "+7995",
        "serial_base": 10_000_000,
    }
    assert await seed_lines(settings, **kwargs) == 45  # type: ignore[arg-type]
    assert await seed_lines(settings, **kwargs) == 0  # type: ignore[arg-type]
    lines, _ = await harness.inventory.lines.find(
        harness.manager(), LineFilter(node_id=tree.south), page_size_=100, page_token="", order_by=""
    )
    assert len(lines) == 45 and {line.state for line in lines} == {"active", "blocked", "ready"}
    puk = await harness.inventory.lines.puk(harness.manager(), lines[3].msisdn)
    assert puk.puk1 == "00000003"
