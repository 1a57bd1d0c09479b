"""Onboarding corporate customers and their accounts (AC-1, the back-office side).

Onboarding spans two services: accounts writes the customer and its tree,
identity creates the profile manager with a grant over the company. The steps,
each safe to repeat under the request's idempotency key:

1. write the customer (status ``onboarding``), its contracts and nodes, and no
   event yet: nothing outside accounts knows of it;
2. ask identity for the profile manager (idempotent on its side too);
3. mark the customer active and publish its nodes and the onboarding, in one
   transaction.

Identity refusing the manager (an invalid phone or email; a number that is a
user of other customers is not refused) undoes step 1; identity out
of reach leaves the customer in ``onboarding``, and the same request sent again
carries on from step 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from datetime import date
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import metrics
from accounts.audit_commands import ACCOUNT_CREATE, ONBOARD
from accounts.customers.identity_client import NewUser
from accounts.customers.legal import LegalEntity, legal_entity_problems
from accounts.customers.models import ACTIVE, ONBOARDING, Contract, Customer
from accounts.customers.money import DEFAULT_CURRENCY, DEFAULT_SETTLEMENT_METHOD, currency_problem, method_problem
from accounts.hierarchy.models import (
    BUSINESS_ACCOUNT,
    COMPANY,
    GENERAL_ACCOUNT,
    PERSONAL_ACCOUNT,
    Node,
)
from accounts.hierarchy.service import HierarchyService, clean_name
from simfleet.events.v1 import accounts_pb2 as ev
from simfleet_runtime import paging
from simfleet_runtime.audit import AuditTrail, obj
from simfleet_runtime.bus import Outbox
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database
from simfleet_runtime.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from simfleet_runtime.idempotency import check_same_request, fingerprint
from simfleet_runtime.ids import is_id, new_id
from simfleet_runtime.timestamps import timestamp
from simfleet_runtime.validation import normalize_email, normalize_msisdn, text_problem
from simfleet_subjects import AccountsSubjects

OPERATOR_ACTOR = "operator"
"""The actor of back-office changes until operator staff sign in as users of their own."""

PROFILE_MANAGER_ROLE = "profile_manager"
_CONTRACT_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/.\-]{0,63}$")
_ACCOUNT_NUMBER = re.compile(r"^\d{6,20}$")
ORDERS = {"created_at": Customer.created_at, "name": Customer.name}
LIST_NAME = "customers"
PARENT_OF = {BUSINESS_ACCOUNT: GENERAL_ACCOUNT, PERSONAL_ACCOUNT: BUSINESS_ACCOUNT}


class UserCreator(Protocol):
    async def create_user(self, user: NewUser) -> str: ...


@dataclass(frozen=True)
class AccountSpec:
    name: str
    number: str
    children: tuple[AccountSpec, ...] = ()


@dataclass(frozen=True)
class Manager:
    phone: str
    email: str
    display_name: str
    password: str = field(default="", repr=False)
    """Optional; handed to identity, never stored or published here."""


@dataclass(frozen=True)
class Onboarding:
    request_id: str
    legal: LegalEntity
    contracts: tuple[tuple[str, str], ...]
    """(number, ISO date signed)."""
    general_account: AccountSpec
    business_accounts: tuple[AccountSpec, ...]
    manager: Manager
    currency: str = ""
    """ISO 4217 (accounts.customers.money); empty: RUB."""
    settlement_method: str = ""
    """prepaid, postpaid or credit; empty: prepaid."""


@dataclass
class Onboarded:
    customer: Customer
    contracts: list[Contract]
    nodes: list[Node] = field(default_factory=list)


def _fingerprinted(content: Onboarding) -> dict[str, object]:
    """The request's content, without the currency and settlement method when they are the defaults.

    Requests from before customers chose them fingerprint as they did then, so their retries still match.
    """
    defaults = {"currency": DEFAULT_CURRENCY, "settlement_method": DEFAULT_SETTLEMENT_METHOD}
    return {
        f.name: getattr(content, f.name)
        for f in fields(content)
        if f.name not in defaults or getattr(content, f.name) != defaults[f.name]
    }


class CustomerService:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        outbox: Outbox,
        hierarchy: HierarchyService,
        identity: UserCreator,
        audit: AuditTrail | None = None,
    ) -> None:
        self._audit = audit
        self._db = db
        self._clock = clock
        self._outbox = outbox
        self._hierarchy = hierarchy
        self._identity = identity

    # ------------------------------------------------------------ onboarding
    async def onboard(self, request: Onboarding) -> Onboarded:
        request, contracts = self._validated(request)
        done = await self._write_pending(request, contracts)
        if done.customer.status == ACTIVE:
            return done
        try:
            user_id = await self._identity.create_user(
                NewUser(
                    request_id=f"onboard:{request.request_id}",
                    customer_id=done.customer.id,
                    phone=request.manager.phone,
                    email=request.manager.email,
                    display_name=request.manager.display_name,
                    grants=[(PROFILE_MANAGER_ROLE, done.customer.root_node_id)],
                    invite=True,
                    password=request.manager.password,
                )
            )
        except Unavailable:
            raise
        except DomainError:
            await self._undo(done.customer.id)
            raise
        return await self._activate(done, user_id)

    def _validated(self, request: Onboarding) -> tuple[Onboarding, list[tuple[str, date]]]:
        problems: dict[str, str] = {}
        if not 1 <= len(request.request_id) <= 128:
            problems["request_id"] = "1 to 128 characters"
        legal = LegalEntity(
            name=" ".join(request.legal.name.split()),
            tax_number=request.legal.tax_number.strip(),
            registration_number=request.legal.registration_number.strip(),
            tax_registration_reason_code=request.legal.tax_registration_reason_code.strip().upper(),
        )
        problems.update(legal_entity_problems(legal))
        if problem := text_problem(request.legal.name):
            problems["legal_entity.name"] = problem
        contracts: list[tuple[str, date]] = []
        if not request.contracts:
            problems["contracts"] = "at least one contract"
        today = self._clock.now().date()
        for i, (number, signed_on) in enumerate(request.contracts):
            if not _CONTRACT_NUMBER.match(number.strip()):
                problems[f"contracts[{i}].number"] = "1 to 64 letters, digits, '/', '.', '-'"
            try:
                signed = date.fromisoformat(signed_on)
            except ValueError:
                problems[f"contracts[{i}].signed_on"] = "an ISO date, e.g. 2026-01-31"
                continue
            if signed > today:
                problems[f"contracts[{i}].signed_on"] = "not in the future"
            contracts.append((number.strip(), signed))
        if len({n for n, _ in contracts}) != len(contracts):
            problems["contracts"] = "contract numbers repeat"
        numbers: list[str] = []

        def check_account(spec: AccountSpec, where: str, *, may_have_children: bool) -> AccountSpec:
            try:
                name = clean_name(spec.name, field=f"{where}.name")
            except InvalidArgument as exc:
                problems.update(exc.field_violations)
                name = spec.name
            if not _ACCOUNT_NUMBER.match(spec.number.strip()):
                problems[f"{where}.account_number"] = "6 to 20 digits"
            numbers.append(spec.number.strip())
            if spec.children and not may_have_children:
                problems[f"{where}.children"] = "personal accounts hang under business accounts only"
            children = tuple(
                check_account(child, f"{where}.children[{j}]", may_have_children=False)
                for j, child in enumerate(spec.children)
            )
            return AccountSpec(name, spec.number.strip(), children)

        general = check_account(request.general_account, "general_account", may_have_children=False)
        business = tuple(
            check_account(spec, f"business_accounts[{i}]", may_have_children=True)
            for i, spec in enumerate(request.business_accounts)
        )
        if len(set(numbers)) != len(numbers):
            problems["account_number"] = "account numbers repeat"
        manager = request.manager
        for name, check in (("phone", normalize_msisdn), ("email", normalize_email)):
            try:
                check(getattr(manager, name), field=f"profile_manager.{name}")
            except InvalidArgument as exc:
                problems.update(exc.field_violations)
        if not 1 <= len(manager.display_name.strip()) <= 200:
            problems["profile_manager.display_name"] = "1 to 200 characters"
        currency = request.currency.strip() or DEFAULT_CURRENCY
        if problem := currency_problem(currency, today):
            problems["currency"] = problem
        method = request.settlement_method.strip() or DEFAULT_SETTLEMENT_METHOD
        if problem := method_problem(method):
            problems["settlement_method"] = problem
        if problems:
            raise InvalidArgument("the onboarding request is not valid", field_violations=problems)
        clean = Onboarding(
            request_id=request.request_id,
            legal=legal,
            contracts=tuple((n, d.isoformat()) for n, d in contracts),
            general_account=general,
            business_accounts=business,
            manager=Manager(
                phone=normalize_msisdn(manager.phone),
                email=normalize_email(manager.email),
                display_name=manager.display_name.strip(),
                password=manager.password,
            ),
            currency=currency,
            settlement_method=method,
        )
        return clean, contracts

    async def _write_pending(self, request: Onboarding, contracts: list[tuple[str, date]]) -> Onboarded:
        now = self._clock.now()
        # What the key is used for: the validated request without its key and the manager's password.
        content = replace(request, request_id="", manager=replace(request.manager, password=""))
        request_fingerprint = fingerprint("OnboardCustomer", _fingerprinted(content))
        try:
            async with self._db.transaction() as session:
                existing = await session.scalar(sa.select(Customer).where(Customer.request_id == request.request_id))
                if existing is not None:
                    # Customers onboarded before fingerprints were kept are compared by their tax number.
                    stored = existing.request_fingerprint
                    if stored is None and existing.tax_number != request.legal.tax_number:
                        stored = "another customer"
                    check_same_request(stored, request_fingerprint, field="request_id")
                    return await self._load(session, existing)
                await self._check_unique(session, request, contracts)
                customer_id = new_id()
                company = self._hierarchy.new_node(
                    parent=None, kind=COMPANY, name=request.legal.name, now=now, customer_id=customer_id
                )
                customer = Customer(
                    id=customer_id,
                    name=request.legal.name,
                    tax_number=request.legal.tax_number,
                    registration_number=request.legal.registration_number,
                    tax_registration_reason_code=request.legal.tax_registration_reason_code,
                    status=ONBOARDING,
                    root_node_id=company.id,
                    profile_manager_user_id="",
                    request_id=request.request_id,
                    request_fingerprint=request_fingerprint,
                    currency=request.currency,
                    settlement_method=request.settlement_method,
                    created_at=now,
                    updated_at=now,
                )
                session.add(customer)
                await session.flush()
                rows = [Contract(id=new_id(), customer_id=customer_id, number=n, signed_on=d) for n, d in contracts]
                session.add_all(rows)
                general = self._hierarchy.new_node(
                    parent=company,
                    kind=GENERAL_ACCOUNT,
                    name=request.general_account.name,
                    now=now,
                    number=request.general_account.number,
                )
                nodes = [company, general]
                for spec in request.business_accounts:
                    business = self._hierarchy.new_node(
                        parent=general, kind=BUSINESS_ACCOUNT, name=spec.name, now=now, number=spec.number
                    )
                    nodes.append(business)
                    nodes.extend(
                        self._hierarchy.new_node(
                            parent=business, kind=PERSONAL_ACCOUNT, name=child.name, now=now, number=child.number
                        )
                        for child in spec.children
                    )
                await session.flush()
                for node in nodes:
                    session.add(node)
                    await session.flush()  # parents first: the self-reference is checked on insert
                return Onboarded(customer, rows, nodes)
        except IntegrityError as exc:
            # Another request took a number between the check and the insert.
            raise AlreadyExists("a customer with these numbers exists already", reason="CUSTOMER_EXISTS") from exc

    async def _check_unique(
        self, session: AsyncSession, request: Onboarding, contracts: list[tuple[str, date]]
    ) -> None:
        taken = await session.scalar(
            sa.select(Customer.id).where(
                sa.or_(
                    Customer.tax_number == request.legal.tax_number,
                    Customer.registration_number == request.legal.registration_number,
                )
            )
        )
        if taken is not None:
            raise AlreadyExists(
                "a customer with this tax or registration number exists",
                reason="CUSTOMER_EXISTS",
                metadata={"customer_id": taken},
            )
        numbers = [n for n, _ in contracts]
        if await session.scalar(sa.select(Contract.id).where(Contract.number.in_(numbers))):
            raise AlreadyExists("a contract with this number exists", reason="CONTRACT_EXISTS")
        accounts = [request.general_account.number]
        for spec in request.business_accounts:
            accounts.append(spec.number)
            accounts.extend(c.number for c in spec.children)
        used = await session.scalar(sa.select(Node.account_number).where(Node.account_number.in_(accounts)))
        if used is not None:
            raise AlreadyExists(
                f"account number {used} is taken", reason="ACCOUNT_NUMBER_TAKEN", metadata={"account_number": used}
            )

    async def _load(self, session: AsyncSession, customer: Customer) -> Onboarded:
        contracts = list(
            (
                await session.scalars(
                    sa.select(Contract).where(Contract.customer_id == customer.id).order_by(Contract.number)
                )
            ).all()
        )
        nodes = list(
            (
                await session.scalars(
                    sa.select(Node).where(Node.customer_id == customer.id).order_by(Node.depth, Node.path)
                )
            ).all()
        )
        return Onboarded(customer, contracts, nodes)

    async def _undo(self, customer_id: str) -> None:
        async with self._db.transaction() as session:
            customer = await session.get(Customer, customer_id, with_for_update=True)
            if customer is None or customer.status != ONBOARDING:
                return
            nodes = (await session.scalars(sa.select(Node).where(Node.customer_id == customer_id))).all()
            for node in sorted(nodes, key=lambda n: -n.depth):
                await session.delete(node)
                await session.flush()
            await session.execute(sa.delete(Contract).where(Contract.customer_id == customer_id))
            await session.delete(customer)

    async def _activate(self, done: Onboarded, user_id: str) -> Onboarded:
        now = self._clock.now()
        async with self._db.transaction() as session:
            customer = await session.get(Customer, done.customer.id, with_for_update=True)
            if customer is None:
                raise NotFound("the customer does not exist", reason="CUSTOMER_NOT_FOUND")
            if customer.status == ACTIVE:
                return await self._load(session, customer)
            customer.status, customer.profile_manager_user_id, customer.updated_at = ACTIVE, user_id, now
            loaded = await self._load(session, customer)
            for node in loaded.nodes:
                await self._hierarchy.publish_created(session, node, actor_id=OPERATOR_ACTOR)
            await self._outbox.add(
                session,
                AccountsSubjects.CUSTOMER_ONBOARDED,
                ev.CustomerOnboarded(
                    customer_id=customer.id,
                    name=customer.name,
                    tax_number=customer.tax_number,
                    root_node_id=customer.root_node_id,
                    profile_manager_user_id=user_id,
                    occurred_at=timestamp(now),
                ),
                tenant=customer.id,
            )
            if self._audit is not None:  # the operator's, under the new customer, with its activation
                objects = [obj("customer", customer.id, customer.root_node_id)]
                await self._audit.add_for_caller(session, ONBOARD, objects, customer=customer.id)
        metrics.CUSTOMERS_ONBOARDED.inc()
        return loaded

    # ------------------------------------------------------------ accounts
    async def create_account(self, *, customer_id: str, parent_id: str, kind: str, name: str, number: str) -> Node:
        if kind not in PARENT_OF:
            raise InvalidArgument(
                "the back-office adds business and personal accounts",
                reason="INVALID_NODE_KIND",
                field_violations={"kind": "business_account or personal_account"},
            )
        name = clean_name(name)
        number = number.strip()
        if not _ACCOUNT_NUMBER.match(number):
            raise InvalidArgument(
                "the account number is not valid",
                reason="INVALID_ACCOUNT_NUMBER",
                field_violations={"account_number": "6 to 20 digits"},
            )
        now = self._clock.now()
        try:
            async with self._db.transaction() as session:
                customer = await self._active(session, customer_id)
                await self._hierarchy.lock_customer(session, customer.id)
                parent = await session.get(Node, parent_id) if is_id(parent_id) else None
                if parent is None or parent.customer_id != customer.id:
                    raise NotFound("the parent node does not exist", reason="NODE_NOT_FOUND")
                if parent.kind != PARENT_OF[kind]:
                    raise FailedPrecondition(
                        f"a {kind.replace('_', ' ')} hangs under a {PARENT_OF[kind].replace('_', ' ')}",
                        reason="INVALID_PARENT",
                        field_violations={"parent_id": f"a {parent.kind.replace('_', ' ')}"},
                    )
                if await session.scalar(sa.select(Node.id).where(Node.account_number == number)):
                    raise AlreadyExists(
                        f"account number {number} is taken",
                        reason="ACCOUNT_NUMBER_TAKEN",
                        metadata={"account_number": number},
                    )
                node = self._hierarchy.new_node(parent=parent, kind=kind, name=name, now=now, number=number)
                session.add(node)
                await session.flush()
                await self._hierarchy.publish_created(session, node, actor_id=OPERATOR_ACTOR)
                if self._audit is not None:
                    objects = [obj("node", node.id, node.id)]
                    await self._audit.add_for_caller(session, ACCOUNT_CREATE, objects, customer=customer.id)
        except IntegrityError as exc:
            raise AlreadyExists("the account number or the name is taken", reason="ACCOUNT_NUMBER_TAKEN") from exc
        metrics.NODE_CHANGES.labels("created").inc()
        return node

    # ------------------------------------------------------------ reading
    async def _active(self, session: AsyncSession, customer_id: str) -> Customer:
        customer = await session.get(Customer, customer_id) if is_id(customer_id) else None
        if customer is None or customer.status == ONBOARDING:
            raise NotFound("the customer does not exist", reason="CUSTOMER_NOT_FOUND")
        return customer

    async def get(self, customer_id: str) -> tuple[Customer, list[Contract]]:
        async with self._db.sessions() as session:
            customer = await self._active(session, customer_id)
            loaded = await self._load(session, customer)
        return customer, loaded.contracts

    async def search(
        self, *, query: str = "", page_size: int = 0, page_token: str = "", order_by: str = ""
    ) -> tuple[list[tuple[Customer, list[Contract]]], str]:
        limit = paging.page_size(page_size)
        order = paging.parse_order(order_by, allowed=tuple(ORDERS), default="-created_at")
        after = paging.decode_token(page_token, order, list_name=LIST_NAME, size=2)
        select = sa.select(Customer).where(Customer.status != ONBOARDING)
        text = query.strip()
        if text:
            select = select.where(
                sa.or_(
                    sa.func.lower(Customer.name).contains(text.lower(), autoescape=True),
                    Customer.tax_number.startswith(text, autoescape=True),
                )
            )
        select = paging.keyset(select, [ORDERS[order.field], Customer.id], order=order, after=after, limit=limit)
        async with self._db.sessions() as session:
            rows = list((await session.scalars(select)).all())
            key = (lambda c: [c.created_at, c.id]) if order.field == "created_at" else (lambda c: [c.name, c.id])
            page, token = paging.next_token(rows, order=order, limit=limit, key=key, list_name=LIST_NAME)
            contracts: dict[str, list[Contract]] = {c.id: [] for c in page}
            if page:
                for contract in await session.scalars(
                    sa.select(Contract).where(Contract.customer_id.in_(contracts)).order_by(Contract.number)
                ):
                    contracts[contract.customer_id].append(contract)
        return [(c, contracts[c.id]) for c in page], token
