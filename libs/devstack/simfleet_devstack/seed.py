"""The demo customer, onboarded through the back-office APIs, and users for tests and the bench.

The demo customer goes the way a real one does: accounts onboards it (its
legal entity, contract, general, business and personal accounts, and its
profile manager, whom accounts has identity create with the profile manager
role over the company); then the manager signs in and draws a department tree
through the same API the cabinet uses, and signs out.

Seeding is idempotent: a customer already there (found by its tax number) or a
phone already registered (ALREADY_EXISTS) counts as done, so running the
launcher again on the same data changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc

from simfleet.accounts.v1 import admin_pb2 as accounts_admin
from simfleet.accounts.v1 import admin_pb2_grpc as accounts_admin_grpc
from simfleet.accounts.v1 import hierarchy_pb2, hierarchy_pb2_grpc
from simfleet.billing.v1 import admin_pb2 as billing_admin
from simfleet.billing.v1 import admin_pb2_grpc as billing_admin_grpc
from simfleet.billing.v1 import ledger_pb2 as billing_ledger
from simfleet.identity.v1 import admin_pb2, admin_pb2_grpc, auth_pb2, auth_pb2_grpc
from simfleet.inventory.v1 import admin_pb2 as inventory_admin
from simfleet.inventory.v1 import admin_pb2_grpc as inventory_admin_grpc
from simfleet.inventory.v1 import lines_pb2 as inventory_lines
from simfleet.netsim.v1 import hlr_pb2, hlr_pb2_grpc
from simfleet_runtime.context import OPERATOR_KEY
from simfleet_runtime.validation import luhn_check_digit

DEMO_CUSTOMER_ID = "01M80FS1VH2MZKYX1PNS53P8M2"
"""The customer of the sign-in test and bench users (a customer id identity accepts; not onboarded)."""
DEMO_TAX_NUMBER = "7701234560"


@dataclass(frozen=True, slots=True)
class SeedUser:
    customer_id: str
    phone: str
    email: str
    display_name: str
    password: str = ""
    grants: tuple[tuple[str, str], ...] = ()
    """(role, node id) pairs."""


DEMO_MANAGER = SeedUser(
    customer_id=DEMO_CUSTOMER_ID,
    phone="+79990000001",
    email="manager@demo.example",
    display_name="Demo Profile Manager",
    password="Demo-Passw0rd-2026",  # the published demo password of the local platform
)


DEMO_OPERATOR = SeedUser(
    customer_id="",
    phone="+79990009000",
    email="back.office@operator.example",
    display_name="Demo Back Office",
    password="Operator-Passw0rd-2026",  # the published demo password of the local platform
)
"""Operator staff with the back_office role: onboards customers through /v1/admin."""


DEMO_SUPPORT = SeedUser(
    customer_id="",
    phone="+79990009001",
    email="support.desk@operator.example",
    display_name="Demo Support Desk",
    password="Support-Passw0rd-2026",  # the published demo password of the local platform
)
"""Operator staff with the support role: works the support desk through /v1/admin/tickets."""


def create_demo_operator(target: str, operator_key: str, timeout: float = 10.0) -> bool:
    """Create the demo back-office and support desk users unless they exist; True when any was created now."""
    created = False
    with grpc.insecure_channel(target) as channel:
        stub = admin_pb2_grpc.IdentityAdminServiceStub(channel)
        for user, role in ((DEMO_OPERATOR, "back_office"), (DEMO_SUPPORT, "support")):
            request = admin_pb2.CreateOperatorRequest(
                phone=user.phone,
                email=user.email,
                display_name=user.display_name,
                password=user.password,
                role=role,
                request_id=f"demo-operator-{role}" if role != "back_office" else "demo-operator",
            )
            created |= _create_operator(stub, request, operator_key, timeout)
    return created


def _create_operator(
    stub: admin_pb2_grpc.IdentityAdminServiceStub, request: admin_pb2.CreateOperatorRequest, key: str, timeout: float
) -> bool:
    return _new(lambda: stub.CreateOperator(request, **_operator_call(key, timeout)))


def _operator_call(operator_key: str, timeout: float) -> dict[str, Any]:
    return {"metadata": ((OPERATOR_KEY, operator_key),), "timeout": timeout, "wait_for_ready": True}


def _new(create: Callable[[], object]) -> bool:
    """Run a back-office create; False when it was there already (ALREADY_EXISTS counts as done)."""
    try:
        create()
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.ALREADY_EXISTS:
            return False
        raise
    return True


def create_user(target: str, operator_key: str, user: SeedUser, timeout: float = 10.0) -> bool:
    """Create ``user`` in identity at ``target``; True if created, False if it already existed."""
    with grpc.insecure_channel(target) as channel:
        stub = admin_pb2_grpc.IdentityAdminServiceStub(channel)
        return _create(stub, operator_key, user, timeout)


def create_users(target: str, operator_key: str, users: list[SeedUser], timeout: float = 10.0) -> int:
    """Create every user over one channel; returns how many were new."""
    created = 0
    with grpc.insecure_channel(target) as channel:
        stub = admin_pb2_grpc.IdentityAdminServiceStub(channel)
        for user in users:
            created += _create(stub, operator_key, user, timeout)
    return created


def _create(stub: admin_pb2_grpc.IdentityAdminServiceStub, operator_key: str, user: SeedUser, timeout: float) -> bool:
    request = admin_pb2.CreateUserRequest(
        customer_id=user.customer_id,
        phone=user.phone,
        email=user.email,
        display_name=user.display_name,
        password=user.password,
        grants=[admin_pb2.GrantSpec(role=role, node_id=node) for role, node in user.grants],
    )
    return _new(lambda: stub.CreateUser(request, **_operator_call(operator_key, timeout)))


def with_inn_check_digit(body: str) -> str:
    """A 10-digit tax number (INN) of an organisation: ``body`` (9 digits) and its check digit."""
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    return body + str(sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11 % 10)


def with_ogrn_check_digit(body: str) -> str:
    """A 13-digit registration number (OGRN): ``body`` (12 digits) and its check digit."""
    return body + str(int(body) % 11 % 10)


def account_spec(
    name: str, number: int, children: tuple[accounts_admin.AccountSpec, ...] = ()
) -> accounts_admin.AccountSpec:
    return accounts_admin.AccountSpec(name=name, account_number=f"{number:010d}", children=children)


DEMO_ONBOARDING = accounts_admin.OnboardCustomerRequest(
    request_id="demo-customer",
    legal_entity=accounts_admin.LegalEntity(
        name="Demo Logistics LLC",
        tax_number=DEMO_TAX_NUMBER,
        registration_number="1027700123450",
        tax_registration_reason_code="770101001",
    ),
    contracts=[accounts_admin.Contract(number="SF-2026/0001", signed_on="2026-01-15")],
    general_account=account_spec("Demo Logistics: general account", 4_100_000_001),
    business_accounts=[
        account_spec(
            "Head office",
            4_100_000_010,
            (account_spec("Management", 4_100_000_011), account_spec("Sales and marketing", 4_100_000_012)),
        ),
        account_spec(
            "Fleet and field service",
            4_100_000_020,
            (
                account_spec("Drivers", 4_100_000_021),
                account_spec("Couriers", 4_100_000_022),
                account_spec("Telematics", 4_100_000_023),
            ),
        ),
        account_spec("Warehouses", 4_100_000_030, (account_spec("Warehouse staff", 4_100_000_031),)),
    ],
    profile_manager=accounts_admin.ProfileManagerSpec(
        phone=DEMO_MANAGER.phone,
        email=DEMO_MANAGER.email,
        display_name=DEMO_MANAGER.display_name,
        password=DEMO_MANAGER.password,
    ),
)


@dataclass(frozen=True, slots=True)
class Dept:
    """A node the demo manager draws: a department, branch or city, with what hangs under it."""

    name: str
    kind: hierarchy_pb2.NodeKind.ValueType = hierarchy_pb2.NODE_KIND_DEPARTMENT
    children: tuple[Dept, ...] = ()


DEMO_DEPARTMENTS = (
    Dept("Head office", children=(Dept("Finance"), Dept("Sales"))),
    Dept(
        "Regions",
        children=(
            Dept("Moscow", hierarchy_pb2.NODE_KIND_CITY),
            Dept("Saint Petersburg", hierarchy_pb2.NODE_KIND_CITY),
            Dept("North-West branch", hierarchy_pb2.NODE_KIND_BRANCH),
        ),
    ),
    Dept("Field service"),
)
"""The tree the demo manager draws under the company."""


def onboard_demo_customer(accounts_target: str, identity_target: str, operator_key: str, timeout: float = 15.0) -> bool:
    """Onboard the demo customer and draw its departments; False when it was there already."""
    operator = ((OPERATOR_KEY, operator_key),)
    with grpc.insecure_channel(accounts_target) as channel:
        admin = accounts_admin_grpc.AccountsAdminServiceStub(channel)
        found = admin.ListCustomers(
            accounts_admin.ListCustomersRequest(query=DEMO_TAX_NUMBER),
            metadata=operator,
            timeout=timeout,
            wait_for_ready=True,
        )
        if any(c.legal_entity.tax_number == DEMO_TAX_NUMBER for c in found.customers):
            return False
        customer = admin.OnboardCustomer(DEMO_ONBOARDING, metadata=operator, timeout=timeout).customer
        with grpc.insecure_channel(identity_target) as identity_channel:
            auth = auth_pb2_grpc.AuthServiceStub(identity_channel)
            tokens = auth.SignInWithPassword(
                auth_pb2.SignInWithPasswordRequest(phone=DEMO_MANAGER.phone, password=DEMO_MANAGER.password),
                timeout=timeout,
            ).tokens
            bearer = (("authorization", f"Bearer {tokens.access_token}"),)
            tree = hierarchy_pb2_grpc.HierarchyServiceStub(channel)

            def draw(parent_id: str, nodes: tuple[Dept, ...]) -> None:
                for dept in nodes:
                    node = tree.CreateNode(
                        hierarchy_pb2.CreateNodeRequest(parent_id=parent_id, kind=dept.kind, name=dept.name),
                        metadata=bearer,
                        timeout=timeout,
                    ).node
                    draw(node.id, dept.children)

            draw(customer.root_node_id, DEMO_DEPARTMENTS)
            auth.SignOut(auth_pb2.SignOutRequest(refresh_token=tokens.refresh_token), metadata=bearer, timeout=timeout)
    return True


DEMO_LINES_PER_ACCOUNT = 400
DEMO_LINES_PREFIX = "+79991"
"""The demo customer's lines are +79991000000 onwards."""
DEMO_TARIFFS = ("BIZ-S", "BIZ-M", "BIZ-L", "IOT-S")
DEMO_STOCK = 500
"""SIM cards and free numbers in the operator's stock (for orders and changes of number)."""
DEMO_RESERVE = 20
"""SIM cards in the demo customer's own reserve (for replacements)."""
_IMPORT_CHUNK = 1000


def demo_sim(serial: int) -> inventory_admin.StockSim:
    """A SIM card of the demo data: ICCID, IMSI and PUKs derived from its serial number."""
    return inventory_admin.StockSim(
        iccid=(body := f"8970101{serial:011d}") + luhn_check_digit(body),
        imsi=f"25001{serial:010d}",
        puk1=f"{(serial * 7919) % 10**8:08d}",
        puk2=f"{(serial * 104729) % 10**8:08d}",
    )


def _demo_state(n: int) -> tuple[inventory_lines.LineState.ValueType, str]:
    """Mostly active lines, some blocked (voluntary or financial), some ready for activation."""
    slot = n % 20
    if slot < 15:
        return inventory_lines.LINE_STATE_ACTIVE, ""
    if slot < 17:
        return inventory_lines.LINE_STATE_BLOCKED, "voluntary" if slot == 15 else "financial"
    return inventory_lines.LINE_STATE_READY, ""


def seed_demo_lines(
    accounts_target: str,
    identity_target: str,
    inventory_target: str,
    operator_key: str,
    timeout: float = 30.0,
    netsim_target: str = "",
    billing_target: str = "",
) -> int:
    """Give the demo customer its lines (400 per personal account, mixed states), stock and reserve.

    With ``billing_target``, each demo personal account is first given its deposit (:func:`seed_demo_deposits`).

    Idempotent (inventory's imports skip what they hold); returns how many lines were added now. With
    ``netsim_target``, returns once the network's HLR holds the lines too (they are registered through
    provisioning commands, a moment after the import).
    """
    with grpc.insecure_channel(identity_target) as identity_channel:
        auth = auth_pb2_grpc.AuthServiceStub(identity_channel)
        tokens = auth.SignInWithPassword(
            auth_pb2.SignInWithPasswordRequest(phone=DEMO_MANAGER.phone, password=DEMO_MANAGER.password),
            timeout=timeout,
            wait_for_ready=True,
        ).tokens
        bearer = (("authorization", f"Bearer {tokens.access_token}"),)
        with grpc.insecure_channel(accounts_target) as channel:
            answer = hierarchy_pb2_grpc.HierarchyServiceStub(channel).ListNodes(
                hierarchy_pb2.ListNodesRequest(kinds=[hierarchy_pb2.NODE_KIND_PERSONAL_ACCOUNT], page_size=100),
                metadata=bearer,
                timeout=timeout,
            )
        auth.SignOut(auth_pb2.SignOutRequest(refresh_token=tokens.refresh_token), metadata=bearer, timeout=timeout)
    accounts = sorted(answer.nodes, key=lambda n: n.account_number)
    if not accounts:
        return 0
    if billing_target:
        seed_demo_deposits(billing_target, [(a.customer_id, a.id) for a in accounts], operator_key)
    customer_id = accounts[0].customer_id
    lines: list[inventory_admin.ImportedLine] = []
    for a, account in enumerate(accounts):
        for i in range(DEMO_LINES_PER_ACCOUNT):
            n = a * DEMO_LINES_PER_ACCOUNT + i
            state, block_type = _demo_state(n)
            lines.append(
                inventory_admin.ImportedLine(
                    msisdn=f"{DEMO_LINES_PREFIX}{n:06d}",
                    sim=demo_sim(n + 1),
                    node_id=account.id,
                    personal_account_id=account.id,
                    tariff_code=DEMO_TARIFFS[n % len(DEMO_TARIFFS)],
                    state=state,
                    block_type=block_type,
                    services=["voice", "sms", "data"] if n % 4 != 3 else ["data"],
                    labels=["vip"] if n % 50 == 0 else [],
                    group="telematics" if n % 4 == 3 else "",
                )
            )
    added = 0
    with grpc.insecure_channel(inventory_target) as channel:
        admin = inventory_admin_grpc.InventoryAdminServiceStub(channel)
        call = _operator_call(operator_key, timeout)
        for start in range(0, len(lines), _IMPORT_CHUNK):
            request = inventory_admin.ImportLinesRequest(
                customer_id=customer_id, lines=lines[start : start + _IMPORT_CHUNK]
            )
            added += admin.ImportLines(request, **call).lines_added
        base = len(lines) + 1
        admin.ImportStock(
            inventory_admin.ImportStockRequest(
                sims=[demo_sim(base + i) for i in range(DEMO_STOCK)],
                msisdns=[f"+79992{i:06d}" for i in range(DEMO_STOCK)],
            ),
            **call,
        )
        admin.ImportStock(
            inventory_admin.ImportStockRequest(
                customer_id=customer_id,
                sims=[demo_sim(base + DEMO_STOCK + i) for i in range(DEMO_RESERVE)],
            ),
            **call,
        )
    if netsim_target and lines:
        _wait_registered(netsim_target, lines[-1].msisdn, timeout=120.0)
    return added


DEMO_DEPOSIT = 100_000_000
"""What each demo personal account is given at seeding, in kopecks (1,000,000.00 RUB): its lines' monthly fees
for months, so that the demo's prepaid accounts are not blocked financially the day they are made."""


def seed_demo_deposits(billing_target: str, personal_accounts: list[tuple[str, str]], operator_key: str) -> int:
    """Pay ``DEMO_DEPOSIT`` onto each (customer id, personal account id) once (entry ``payment:demo-<id>``).

    billing opens a personal account's ledger account when it hears of the node from accounts: until then
    opening it is NOT_FOUND, and this waits. Returns how many deposits were paid now.
    """
    call = _operator_call(operator_key, 10.0)
    paid = 0
    with grpc.insecure_channel(billing_target) as channel:
        admin = billing_admin_grpc.BillingAdminServiceStub(channel)
        clearing = admin.OpenAccount(
            billing_admin.OpenAccountRequest(kind=billing_ledger.ACCOUNT_KIND_PAYMENTS_CLEARING, currency="RUB"),
            **call,
        ).account
        for customer_id, node_id in personal_accounts:
            deadline = time.monotonic() + 60
            while True:
                try:
                    account = admin.OpenAccount(
                        billing_admin.OpenAccountRequest(
                            kind=billing_ledger.ACCOUNT_KIND_PERSONAL,
                            customer_id=customer_id,
                            personal_account_id=node_id,
                            currency="RUB",
                        ),
                        **call,
                    ).account
                    break
                except grpc.RpcError as error:
                    if error.code() != grpc.StatusCode.NOT_FOUND or time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            posted = admin.PostEntry(
                billing_admin.PostEntryRequest(
                    entry_id=f"payment:demo-{node_id}",
                    kind="payment",
                    currency="RUB",
                    description="the demo's deposit",
                    legs=[
                        billing_admin.EntryLeg(
                            account_id=clearing.id, side=billing_admin.SIDE_DEBIT, amount=DEMO_DEPOSIT
                        ),
                        billing_admin.EntryLeg(
                            account_id=account.id, side=billing_admin.SIDE_CREDIT, amount=DEMO_DEPOSIT
                        ),
                    ],
                ),
                **call,
            )
            paid += 0 if posted.replayed else 1
    return paid


def _wait_registered(netsim_target: str, msisdn: str, *, timeout: float) -> None:
    """Until the HLR knows ``msisdn`` (registration follows the import's order, so the last one means all)."""
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(netsim_target) as channel:
        hlr = hlr_pb2_grpc.HlrServiceStub(channel)
        while True:
            try:
                hlr.GetSubscriber(hlr_pb2.GetSubscriberRequest(msisdn=msisdn), timeout=5, wait_for_ready=True)
                return
            except grpc.RpcError as exc:
                if exc.code() != grpc.StatusCode.NOT_FOUND or time.monotonic() > deadline:
                    raise
            time.sleep(0.2)
