"""Every row of the scope matrix: each predefined role and a custom one, granted at the company or a department.

Objects lie inside the caller's scope (under the department "Inside"), in the
company outside a department grant (under "Outside"), or at another customer.
The matrix brings two customers of its own, so that the nodes, lines and
operations it leaves behind never show in what other tests see of the demo
customer. Each place has a node made when first needed, with a user, a line and
an operation in it, shared by the rows that only read. A row that changes
something gets an object of its own for every call: a node of its own when it
changes a node, else a user, line or operation of its own in the place's node.
SIM orders bill a personal account of the matrix customer, made once by the
back-office (accounts hang beside the departments, in the company's scope only).
Every mismatch is reported at once, as "role@level place row: got X, expected Y".
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import grpc
import httpx
import pytest

from simfleet.accounts.v1 import admin_pb2 as accounts_admin
from simfleet.accounts.v1 import admin_pb2_grpc as accounts_admin_grpc
from simfleet.accounts.v1 import hierarchy_pb2
from simfleet.inventory.v1 import admin_pb2 as inventory_admin
from simfleet.inventory.v1 import admin_pb2_grpc as inventory_admin_grpc
from simfleet.inventory.v1 import lines_pb2
from simfleet.netsim.v1 import hlr_pb2, hlr_pb2_grpc
from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import demo_sim
from simfleet_runtime.context import OPERATOR_KEY
from tests.e2e.conftest import onboard_customer
from tests.e2e.scope_matrix import ROWS, SCHEDULED_LATER, Place, Row
from tests.helpers import new_user, password_sign_in, pay_in

pytestmark = pytest.mark.e2e
PASSWORD = "Matrix-Passw0rd-2026"
MATRIX_MANAGER = "+79996660001"
RIVAL_MANAGER = "+79996660002"
INVENTORY_PATHS = ("/v1/lines", "/v1/operations", "/v1/sim-orders")
BILLING_NODE_PATHS = ("/v1/nodes/{node}/promised-payments", "/v1/spending-limits")
"""Rows whose node billing must know (from accounts' events) before they are called."""
TICKETING_PATHS = ("/v1/tickets", "/v1/forms")
"""Rows whose node ticketing must know before they are called (a form is filled in for a node ticketing knows)."""
_names = itertools.count(1)


class ReSigning(httpx.HTTPTransport):
    """Signs a caller in again when its access token expires (they last 10 minutes; on a busy machine the matrix
    takes longer), and sends the new token in place of the old from then on: the rows keep their headers."""

    def __init__(self) -> None:
        super().__init__()
        self.credentials: dict[str, tuple[str, str]] = {}  # access token → (phone, password)
        self.successor: dict[str, str] = {}  # expired access token → the one signed in in its place

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        while token in self.successor:
            token = self.successor[token]
            request.headers["authorization"] = f"Bearer {token}"
        response = super().handle_request(request)
        if response.status_code != 401 or token not in self.credentials:
            return response
        response.read()
        if response.json().get("reason") != "TOKEN_EXPIRED":
            return response
        phone, password = self.credentials[token]
        renewal = httpx.Request(
            "POST",
            request.url.copy_with(path="/v1/auth/password", query=None),
            json={"phone": phone, "password": password},
        )
        renewed = super().handle_request(renewal)
        renewed.read()
        assert renewed.status_code == 200, renewed.text
        fresh = renewed.json()["access_token"]
        self.credentials[fresh] = (phone, password)
        self.successor[token] = fresh
        request.headers["authorization"] = f"Bearer {fresh}"
        return super().handle_request(request)


def sign_in(api: httpx.Client, phone: str, password: str) -> dict[str, str]:
    response = password_sign_in(api, phone, password)
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    transport = getattr(api, "_transport", None)
    if isinstance(transport, ReSigning):
        transport.credentials[token] = (phone, password)
    return {"Authorization": f"Bearer {token}"}


def wait_until_known(api: httpx.Client, path: str, node: str, owner: dict[str, str], service: str) -> None:
    """A service learns of new nodes from accounts' events: wait until its copy of the tree has ``node``."""
    deadline = time.monotonic() + 10
    # A path with {} names the node itself (billing: a personal account's balance), else it filters by node_id.
    url, params = (path.format(node), None) if "{}" in path else (path, {"node_id": node})
    while api.get(url, params=params, headers=owner).status_code == 404:
        assert time.monotonic() < deadline, f"{service} never learnt of the node"
        time.sleep(0.02)


@dataclass
class Area:
    """Where objects of one place are made: a parent node, its customer, and a token that may change it."""

    parent_id: str
    customer_id: str
    owner: dict[str, str]


@dataclass
class Subject:
    label: str
    auth: dict[str, str]
    permissions: frozenset[str]
    department_only: bool


@dataclass
class Objects:
    """What a call works on: a node and, as its row needs them, a user, a line and an operation in it."""

    node: str = ""
    user: str = ""
    line: str = ""
    operation: str = ""
    limit: str = ""
    ticket: str = ""
    group: str = ""


class Maker:
    """Makes the objects of the rows in an area: new ones per call, or one shared set per area for rows that read."""

    def __init__(self, api: httpx.Client, platform: Platform, inventory: Any) -> None:
        self._api = api
        self._platform = platform
        self._inventory = inventory
        self._netsim = grpc.insecure_channel(platform.netsim_target)
        self._shared: dict[str, Objects] = {}

    def objects(self, row: Row, area: Area) -> Objects:
        if row.obj in ("none", "account"):
            return Objects()
        shared = self._shared.get(area.parent_id)
        if shared is None:
            shared = self._shared[area.parent_id] = Objects(
                self._node(area, identity=True, inventory=True, billing=True, ticketing=True)
            )
        if row.shares:
            objects = shared
        elif row.obj == "node":
            objects = Objects(
                self._node(
                    area,
                    identity=row.path.startswith("/v1/users"),
                    inventory=row.path.startswith(INVENTORY_PATHS),
                    billing=row.path.startswith(BILLING_NODE_PATHS),
                    ticketing=row.path.startswith(TICKETING_PATHS),
                )
            )
        else:  # a user, line or operation of the call's own, in the place's node (the row changes no node)
            objects = Objects(shared.node)
        if row.obj == "user" and not objects.user:
            target = new_user(
                self._platform, password="", customer_id=area.customer_id, grants=(("viewer", objects.node),)
            )
            found = self._api.get("/v1/users", params={"q": target.phone}, headers=area.owner).json()["items"]
            objects.user = found[0]["id"]
        if row.obj == "line" and not objects.line:
            objects.line = self._line(area, objects.node)
        if row.obj == "limit" and not objects.limit:
            made = self._api.post(
                "/v1/spending-limits",
                json={
                    "scope": "node",
                    "node_id": objects.node,
                    "amount": 100_000_000,
                    "currency": "RUB",
                    "action": "warn",
                    "notify": ["+79990001122"],
                },
                headers=area.owner,
            )
            assert made.status_code == 201, made.text
            objects.limit = made.json()["id"]
        if row.obj == "ticket" and not objects.ticket:
            made = self._api.post(
                "/v1/tickets",
                json={"node_id": objects.node, "type": "complaint", "topic": "Matrix", "description": "A complaint."},
                headers=area.owner,
            )
            assert made.status_code == 201, made.text
            objects.ticket = made.json()["id"]
        if (row.obj == "group" or "{group}" in str(row.body)) and not objects.group:
            made = self._api.post(
                "/v1/lines/groups",
                json={"node_id": objects.node, "name": f"Matrix group {next(_names)}", "icon": "star"},
                headers=area.owner,
            )
            assert made.status_code == 201, made.text
            objects.group = made.json()["id"]
        if row.obj == "operation" and not objects.operation:
            # A block of the node's lines by its owner, due long after the test: it stays scheduled (cancellable).
            made = self._api.post(
                "/v1/operations",
                json={
                    "type": "block",
                    "selection": {"node_id": objects.node},
                    "params": {"block_type": "voluntary"},
                    "scheduled_at": SCHEDULED_LATER,
                },
                headers=area.owner,
            )
            assert made.status_code == 202, made.text
            objects.operation = made.json()["id"]
        return objects

    def _node(
        self, area: Area, *, identity: bool, inventory: bool, billing: bool = False, ticketing: bool = False
    ) -> str:
        created = self._api.post(
            "/v1/nodes",
            json={"parent_id": area.parent_id, "name": f"Matrix {next(_names)}", "kind": "city"},
            headers=area.owner,
        )
        assert created.status_code == 201, created.text
        node: str = created.json()["id"]
        if identity:
            wait_until_known(self._api, "/v1/users", node, area.owner, "identity")
        if inventory:
            wait_until_known(self._api, "/v1/lines", node, area.owner, "inventory")
        if billing:
            wait_until_known(self._api, "/v1/spending-limits", node, area.owner, "billing")
        if ticketing:
            wait_until_known(self._api, "/v1/tickets", node, area.owner, "ticketing")
        return node

    def _line(self, area: Area, node: str) -> str:
        n = next(_names)
        line = f"+79994{n:06d}"
        self._inventory.ImportLines(
            inventory_admin.ImportLinesRequest(
                customer_id=area.customer_id,
                lines=[
                    inventory_admin.ImportedLine(
                        msisdn=line,
                        sim=demo_sim(5_000_000 + n),
                        node_id=node,
                        personal_account_id=node,
                        tariff_code="BIZ-S",
                        state=lines_pb2.LINE_STATE_ACTIVE,
                    )
                ],
            ),
            metadata=((OPERATOR_KEY, self._platform.config.operator_key),),
            timeout=10,
        )
        # An imported active line is registered in the HLR afterwards: until the network knows it, locating it
        # is 404 LOCATION_UNKNOWN whoever asks, which is not what the matrix checks.
        hlr = hlr_pb2_grpc.HlrServiceStub(self._netsim)
        deadline = time.monotonic() + 10
        while True:
            try:
                hlr.GetLocation(hlr_pb2.GetLocationRequest(msisdn=line), timeout=5)
                break
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.NOT_FOUND:
                    raise
            assert time.monotonic() < deadline, f"the HLR never registered {line}"
            time.sleep(0.05)
        # billing learns of the line from inventory's events: until then its usage is a 404 for everyone.
        wait_until_known(self._api, "/v1/lines/{}/usage", line, area.owner, "billing")
        return line


def fill(value: Any, values: dict[str, str], n: int, *, url: bool = False) -> Any:
    if isinstance(value, dict):
        return {k: fill(v, values, n) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, values, n) for v in value]
    if isinstance(value, str):
        for name, filler in values.items():
            value = value.replace("{" + name + "}", quote(filler, safe="") if url else filler)
        return f"{value} {n}" if value in ("Renamed", "Child") else value
    return value


def item_reached(api: httpx.Client, subject: Subject, operation_id: str) -> bool:
    """Whether the engine took the operation's one line as the caller's (not skipped NOT_FOUND), once it has."""
    deadline = time.monotonic() + 10
    while True:
        items = api.get(f"/v1/operations/{operation_id}/items", headers=subject.auth)
        assert items.status_code == 200, items.text
        [item] = items.json()["items"]
        if item["state"] != "pending":
            return not (item["state"] == "skipped" and item["code"] == "NOT_FOUND")
        assert time.monotonic() < deadline, f"the operation {operation_id} never took its line"
        time.sleep(0.02)


def personal_account(
    platform: Platform, onboarded: accounts_admin.OnboardCustomerResponse, prefix: str = "40666"
) -> str:
    """A personal account of the customer, under a business account of its general account (the back-office's).

    ``prefix`` starts its account numbers (unique across customers)."""
    [general] = [n.id for n in onboarded.nodes if n.kind == hierarchy_pb2.NODE_KIND_GENERAL_ACCOUNT]
    parent = general
    with grpc.insecure_channel(platform.accounts_target) as channel:
        stub = accounts_admin_grpc.AccountsAdminServiceStub(channel)
        for kind, number in (
            (hierarchy_pb2.NODE_KIND_BUSINESS_ACCOUNT, f"{prefix}00001"),
            (hierarchy_pb2.NODE_KIND_PERSONAL_ACCOUNT, f"{prefix}00002"),
        ):
            made = stub.CreateAccount(
                accounts_admin.CreateAccountRequest(
                    customer_id=onboarded.customer.id,
                    parent_id=parent,
                    kind=kind,
                    name=f"Matrix {prefix}",
                    account_number=number,
                ),
                metadata=((OPERATOR_KEY, platform.config.operator_key),),
                timeout=10,
            )
            parent = made.node.id
    return parent


def call(
    api: httpx.Client, maker: Maker, subject: Subject, row: Row, area: Area, places: dict[str, str]
) -> tuple[int, bool | None]:
    """The status the row's call answered, and whether the caller reached its object (None: the row does not show)."""
    n = next(_names)
    objects = maker.objects(row, area)
    values = {
        "node": objects.node,
        "user": objects.user,
        "line": objects.line,
        "operation": objects.operation,
        "limit": objects.limit,
        "ticket": objects.ticket,
        "group": objects.group,
        **places,
    }
    with api.stream(
        row.method, fill(row.path, values, n, url=True), json=fill(row.body, values, n), headers=subject.auth
    ) as answer:
        if answer.headers.get("content-type", "").startswith("text/event-stream"):
            # The stream goes on while the operation lives: its opening (retry:, then the first event) will do.
            lines = (line for line in answer.iter_lines() if line)
            opening = [next(lines), next(lines)]
            assert opening[0].startswith("retry: ") and opening[1] == "event: progress", opening
            body: Any = None
        elif "json" in answer.headers.get("content-type", ""):
            body = answer.json() if answer.read() else None
        else:  # a document (a filled-in form's PDF): its status is the row's answer
            answer.read()
            body = None
    status = answer.status_code
    if status >= 400:
        assert answer.headers["content-type"].startswith("application/problem+json"), body
    reached = None
    if row.shows is not None and status == row.success:
        if row.shows == "listed":
            ids = {"limit": objects.limit, "ticket": objects.ticket, "group": objects.group}
            key, value = ("msisdn", objects.line) if row.obj == "line" else ("id", ids.get(row.obj, objects.operation))
            reached = any(item[key] == value for item in body["items"])
        else:
            reached = item_reached(api, subject, body["id"])
    if status == 201 and row.obj == "node" and row.method == "POST" and row.path == "/v1/nodes":
        api.delete(f"/v1/nodes/{body['id']}", headers=area.owner)
    if row.obj == "node" and not row.shares and not row.path.startswith(INVENTORY_PATHS):
        api.delete(f"/v1/nodes/{objects.node}", headers=area.owner)  # nodes that may hold lines or operations stay
    return status, reached


@pytest.fixture
def api(platform: Platform) -> Iterator[httpx.Client]:
    """The package's client, re-signing callers whose tokens expire mid-matrix."""
    with httpx.Client(
        base_url=platform.gateway_url, timeout=10, headers={"User-Agent": "simfleet-e2e"}, transport=ReSigning()
    ) as client:
        yield client


def test_the_scope_matrix(platform: Platform, api: httpx.Client) -> None:
    matrix = onboard_customer(
        platform, key="matrix", n=66, name="Matrix Holding LLC", phone=MATRIX_MANAGER, password=PASSWORD
    )
    rival = onboard_customer(
        platform, key="rival", n=67, name="Rival Holding LLC", phone=RIVAL_MANAGER, password=PASSWORD
    )
    manager = sign_in(api, MATRIX_MANAGER, PASSWORD)
    company = matrix.customer.root_node_id
    inside, outside = (
        api.post("/v1/nodes", json={"parent_id": company, "name": name, "kind": "department"}, headers=manager)
        for name in ("Inside", "Outside")
    )
    assert inside.status_code == outside.status_code == 201, (inside.text, outside.text)
    home = inside.json()["id"]
    # Users are granted the department below, and lines move to it: identity and inventory learn of it.
    wait_until_known(api, "/v1/users", home, manager, "identity")
    wait_until_known(api, "/v1/lines", home, manager, "inventory")
    account = personal_account(platform, matrix)
    wait_until_known(api, "/v1/lines", account, manager, "inventory")
    rival_manager = sign_in(api, RIVAL_MANAGER, PASSWORD)
    rival_account = personal_account(platform, rival, "40667")
    account2 = personal_account(platform, matrix, "40668")
    for owner, node in ((manager, account), (manager, account2), (rival_manager, rival_account)):
        wait_until_known(api, "/v1/personal-accounts/{}/balance", node, owner, "billing")
    pay_in(platform, matrix.customer.id, account, 1_000_000, f"payment:matrix-{account}")  # what transfers move
    places = {"home": home, "account": account, "account2": account2}
    areas: dict[Place, Area] = {
        "inside": Area(home, matrix.customer.id, manager),
        "outside": Area(outside.json()["id"], matrix.customer.id, manager),
        "other customer": Area(rival.customer.root_node_id, rival.customer.id, rival_manager),
    }

    custom = api.post(
        "/v1/roles",
        json={"name": "Matrix custom", "permissions": ["lines:read", "hierarchy:manage", "audit:read"]},
        headers=manager,
    )
    assert custom.status_code == 201, custom.text
    roles = {r["id"]: frozenset(r["permissions"]) for r in api.get("/v1/roles", headers=manager).json()["items"]}
    predefined = ("profile_manager", "account_manager", "number_manager", "viewer", "coordinator_assistant")
    subjects = []
    for role_id, permissions in roles.items():
        assert role_id in predefined or role_id == custom.json()["id"], role_id  # the customer is the matrix's own
        for level, node in (("company", company), ("department", home)):
            user = new_user(platform, password=PASSWORD, customer_id=matrix.customer.id, grants=((role_id, node),))
            label = f"{'custom' if role_id == custom.json()['id'] else role_id}@{level}"
            subjects.append(Subject(label, sign_in(api, user.phone, PASSWORD), permissions, level == "department"))
    assert len(subjects) == 12

    wrong: list[str] = []
    with grpc.insecure_channel(platform.inventory_target) as channel:
        maker = Maker(api, platform, inventory_admin_grpc.InventoryAdminServiceStub(channel))
        # The objects rows share are made first, one place at a time; then the callers run side by side (each
        # its rows in order), most of a call being a wait on a service (a line registered, a node learnt).
        for area, row in itertools.product(areas.values(), ROWS):
            if row.shares:
                maker.objects(row, area)

        def run(subject: Subject) -> None:
            for (place, area), row in itertools.product(areas.items(), ROWS):
                in_scope = place == "inside" or (place == "outside" and not subject.department_only)
                here = subject.permissions if in_scope else None
                # Accounts hang beside the departments: only a company grant reaches one.
                at_account = None if subject.department_only else subject.permissions
                called = places
                if row.obj == "account":  # the row's object is the account: the customer's, or the rival's
                    if place == "outside":
                        continue  # the customer's account is the same object from every place of the customer
                    here = at_account if place != "other customer" else None
                    called = {**places, "account": rival_account} if place == "other customer" else places
                expected = row.expected(here, subject.permissions, at_account)
                got, reached = call(api, maker, subject, row, area, called)
                if got != expected:
                    wrong.append(f"{subject.label} {place} {row.name}: got {got}, expected {expected}")
                elif reached is not None and reached != row.reaches(here):
                    seen = "reached" if reached else "did not reach"
                    wrong.append(f"{subject.label} {place} {row.name}: {seen} the {row.obj}, expected otherwise")

        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(run, subjects))  # re-raises what a caller's run raised
    assert not wrong, f"{len(wrong)} answers differ:\n" + "\n".join(wrong)
    assert api.delete(f"/v1/roles/{custom.json()['id']}", headers=manager).status_code in (204, 409)
