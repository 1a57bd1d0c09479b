"""Between domain objects and their protobuf form."""

from __future__ import annotations

from accounts.customers.models import ACTIVE, SUSPENDED, Contract, Customer
from accounts.hierarchy import models as h
from accounts.hierarchy.models import Node
from accounts.hierarchy.service import Summary
from simfleet.accounts.v1 import admin_pb2 as admin
from simfleet.accounts.v1 import hierarchy_pb2 as pb
from simfleet_runtime.timestamps import optional_timestamp, timestamp

KINDS: dict[str, int] = {
    h.COMPANY: pb.NODE_KIND_COMPANY,
    h.GENERAL_ACCOUNT: pb.NODE_KIND_GENERAL_ACCOUNT,
    h.BUSINESS_ACCOUNT: pb.NODE_KIND_BUSINESS_ACCOUNT,
    h.PERSONAL_ACCOUNT: pb.NODE_KIND_PERSONAL_ACCOUNT,
    h.DEPARTMENT: pb.NODE_KIND_DEPARTMENT,
    h.BRANCH: pb.NODE_KIND_BRANCH,
    h.CITY: pb.NODE_KIND_CITY,
}
KIND_NAMES = {value: name for name, value in KINDS.items()}
STATUSES = {ACTIVE: admin.CUSTOMER_STATUS_ACTIVE, SUSPENDED: admin.CUSTOMER_STATUS_SUSPENDED}


def kind(value: int) -> str:
    """The domain's kind; unset or unknown becomes "" (refused by the use case)."""
    return KIND_NAMES.get(value, "")


def node(value: Node) -> pb.Node:
    return pb.Node(
        id=value.id,
        customer_id=value.customer_id,
        parent_id=value.parent_id or "",
        kind=KINDS[value.kind],  # type: ignore[arg-type]
        name=value.name,
        path=value.path,
        depth=value.depth,
        account_number=value.account_number or "",
        created_at=timestamp(value.created_at),
        updated_at=timestamp(value.updated_at),
    )


def summary(value: Summary) -> pb.GetNodeSummaryResponse:
    return pb.GetNodeSummaryResponse(
        node_id=value.node.id,
        descendants=value.descendants,
        figures=[
            pb.SummaryFigure(
                name=f.name,
                unit=f.unit,
                own=f.own,
                subtree=f.subtree,
                updated_at=optional_timestamp(f.updated_at),
            )
            for f in value.figures
        ],
    )


def customer(value: Customer, contracts: list[Contract]) -> admin.Customer:
    return admin.Customer(
        id=value.id,
        legal_entity=admin.LegalEntity(
            name=value.name,
            tax_number=value.tax_number,
            registration_number=value.registration_number,
            tax_registration_reason_code=value.tax_registration_reason_code,
        ),
        contracts=[admin.Contract(number=c.number, signed_on=c.signed_on.isoformat()) for c in contracts],
        status=STATUSES.get(value.status, admin.CUSTOMER_STATUS_UNSPECIFIED),
        root_node_id=value.root_node_id,
        profile_manager_user_id=value.profile_manager_user_id,
        created_at=timestamp(value.created_at),
        currency=value.currency,
        settlement_method=value.settlement_method,
    )
