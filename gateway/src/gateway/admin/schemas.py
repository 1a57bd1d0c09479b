"""Bodies of /v1/admin: the back-office's customers (AC-1)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from gateway.nodes.schemas import NodeResponse
from gateway.text import HumanText
from simfleet.accounts.v1 import admin_pb2 as pb

SettlementMethod = Literal["prepaid", "postpaid", "credit"]
AccountNumber = Field(min_length=1, max_length=32, description="digits, unique across the operator")

_ONBOARDING_EXAMPLE: dict[str, JsonValue] = {
    "legal_entity": {
        "name": "Northwind Freight LLC",
        "tax_number": "7707083893",
        "registration_number": "1027700132195",
        "tax_registration_reason_code": "773601001",
    },
    "contracts": [{"number": "SF-2026/0042", "signed_on": "2026-02-01"}],
    "general_account": {"name": "General account", "account_number": "4300000001"},
    "business_accounts": [
        {
            "name": "Head office",
            "account_number": "4300000002",
            "personal_accounts": [{"name": "Management", "account_number": "4300000003"}],
        }
    ],
    "profile_manager": {"phone": "+79990001234", "email": "it@northwind.example", "name": "Anna Petrova"},
    "currency": "RUB",
    "settlement_method": "prepaid",
}
_CUSTOMER_EXAMPLE: dict[str, JsonValue] = {
    "id": "01JA2C3D4E5F6G7H8J9K0M1N2P",
    "legal_entity": _ONBOARDING_EXAMPLE["legal_entity"],
    "contracts": _ONBOARDING_EXAMPLE["contracts"],
    "status": "active",
    "root_node_id": "01JA2C3D4E5F6G7H8J9K0M1N2Q",
    "profile_manager_user_id": "01JA2C3D4E5F6G7H8J9K0M1N2R",
    "created_at": "2026-02-01T10:00:00Z",
    "currency": "RUB",
    "settlement_method": "prepaid",
}


class LegalEntity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, HumanText] = Field(min_length=1, max_length=300)
    tax_number: str = Field(min_length=1, max_length=12, description="INN, check digits verified")
    registration_number: str = Field(min_length=1, max_length=15, description="OGRN or OGRNIP")
    tax_registration_reason_code: str = Field("", max_length=9, description="KPP; organisations only")


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(min_length=1, max_length=64)
    signed_on: str = Field(min_length=10, max_length=10, description="ISO date", examples=["2026-02-01"])


class Account(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, HumanText] = Field(min_length=1, max_length=200)
    account_number: str = AccountNumber


class BusinessAccount(Account):
    personal_accounts: list[Account] = Field(default_factory=list, max_length=1000)


class ProfileManager(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=1, max_length=32, description="E.164")
    email: str = Field(min_length=3, max_length=254)
    name: Annotated[str, HumanText] = Field(min_length=1, max_length=200)


class OnboardCustomerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_ONBOARDING_EXAMPLE]})

    legal_entity: LegalEntity
    contracts: list[Contract] = Field(min_length=1, max_length=50)
    general_account: Account
    business_accounts: list[BusinessAccount] = Field(default_factory=list, max_length=1000)
    profile_manager: ProfileManager
    currency: str = Field(
        "RUB",
        pattern=r"^[A-Z]{3}$",
        description="ISO 4217, in use today (e.g. RUB, IRR): the currency of every personal account's money",
        examples=["IRR"],
    )
    settlement_method: SettlementMethod = Field("prepaid", description="how its personal accounts settle")

    def to_proto(self, request_id: str) -> pb.OnboardCustomerRequest:
        entity = self.legal_entity
        return pb.OnboardCustomerRequest(
            request_id=request_id,
            legal_entity=pb.LegalEntity(
                name=entity.name,
                tax_number=entity.tax_number,
                registration_number=entity.registration_number,
                tax_registration_reason_code=entity.tax_registration_reason_code,
            ),
            contracts=[pb.Contract(number=c.number, signed_on=c.signed_on) for c in self.contracts],
            general_account=pb.AccountSpec(
                name=self.general_account.name, account_number=self.general_account.account_number
            ),
            business_accounts=[
                pb.AccountSpec(
                    name=b.name,
                    account_number=b.account_number,
                    children=[
                        pb.AccountSpec(name=p.name, account_number=p.account_number) for p in b.personal_accounts
                    ],
                )
                for b in self.business_accounts
            ],
            profile_manager=pb.ProfileManagerSpec(
                phone=self.profile_manager.phone,
                email=self.profile_manager.email,
                display_name=self.profile_manager.name,
            ),
            currency=self.currency,
            settlement_method=self.settlement_method,
        )


class CustomerResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_CUSTOMER_EXAMPLE]})

    id: str
    legal_entity: LegalEntity
    contracts: list[Contract]
    status: Literal["active", "suspended", "unspecified"]
    root_node_id: str
    profile_manager_user_id: str
    created_at: datetime
    currency: str = Field(description="ISO 4217: the currency of its personal accounts")
    settlement_method: str = Field(description="prepaid, postpaid or credit")

    @classmethod
    def from_proto(cls, customer: pb.Customer) -> CustomerResponse:
        entity = customer.legal_entity
        status = {pb.CUSTOMER_STATUS_ACTIVE: "active", pb.CUSTOMER_STATUS_SUSPENDED: "suspended"}
        return cls(
            id=customer.id,
            legal_entity=LegalEntity(
                name=entity.name,
                tax_number=entity.tax_number,
                registration_number=entity.registration_number,
                tax_registration_reason_code=entity.tax_registration_reason_code,
            ),
            contracts=[Contract(number=c.number, signed_on=c.signed_on) for c in customer.contracts],
            status=status.get(customer.status, "unspecified"),
            root_node_id=customer.root_node_id,
            profile_manager_user_id=customer.profile_manager_user_id,
            created_at=customer.created_at.ToDatetime(tzinfo=UTC),
            currency=customer.currency or "RUB",
            settlement_method=customer.settlement_method or "prepaid",
        )


class OnboardedCustomer(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"customer": _CUSTOMER_EXAMPLE, "nodes": []}]})

    customer: CustomerResponse
    nodes: list[NodeResponse] = Field(description="every node created, parents before children")


class CustomersPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_CUSTOMER_EXAMPLE], "next_cursor": None}]})

    items: list[CustomerResponse]
    next_cursor: str | None


class CreateAccountRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "parent_id": "01JA2C3D4E5F6G7H8J9K0M1N2S",
                    "kind": "personal_account",
                    "name": "Couriers",
                    "account_number": "4300000004",
                }
            ]
        },
    )

    parent_id: str = Field(min_length=1, max_length=64)
    kind: Literal["business_account", "personal_account"]
    name: Annotated[str, HumanText] = Field(min_length=1, max_length=200)
    account_number: str = AccountNumber
