"""Buying data packages (BI-7 for lines, BI-8 for groups), the purchase history, receipts, and what rating draws on.

A purchase, all or nothing, in one transaction:

1. Its id is the caller's idempotency key scoped to them (``pkg:`` and a
   hash of the customer, the user and the key): a purchase there already
   answers again (``replayed``) when the request is the same, and is refused
   with ``IDEMPOTENCY_KEY_REUSED`` otherwise. Nothing is charged twice.
2. Every line (by number, of the caller's customer, not terminated) and the
   group's node must be in the caller's scope with ``packages:buy``; an
   unknown one or one outside the scope is NOT_FOUND, as everywhere.
3. One journal entry (per 63 personal accounts) debits each line's personal
   account (a group package: the personal account named) and credits revenue,
   refused at the floor (``INSUFFICIENT_FUNDS``): then nothing is bought.
4. The purchase row, a package row per line (or the group's one) and, when
   there is an address, the receipt to email commit together with the entries.
5. A line package counts in its line's spend for spending limits
   (:mod:`billing.limits.spend`), its price in the month bought, in the same
   transaction. A group package counts for no line: it is paid from a
   personal account for all the lines under a node, none of which bought it
   (a limit counts what its lines were charged).
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from billing import metrics, money
from billing.catalogue.packages import GROUP, LINE, PackageOffer, offer
from billing.catalogue.price_lists import offer_in
from billing.db import NODE_PATHS
from billing.ledger.models import ACCOUNTS, REVENUE
from billing.ledger.service import CREDIT, DEBIT, MAX_LEGS, LedgerService, Leg, NewEntry
from billing.limits.spend import add_spend
from billing.lines.models import LINES
from billing.packages.models import PACKAGES, PURCHASES, RECEIPTS, DataPackage, PackagePurchase
from billing.rating.pricing import Package
from simfleet_runtime import paging
from simfleet_runtime.authz import Access, is_node_id
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, insert_ignoring_conflicts, one_of
from simfleet_runtime.errors import FailedPrecondition, InvalidArgument, NotFound
from simfleet_runtime.idempotency import check_same_request, fingerprint
from simfleet_runtime.ids import new_id
from simfleet_runtime.nodepaths import path_ids
from simfleet_runtime.validation import normalize_email, normalize_msisdns

BUY = "packages:buy"
READ = "billing:read"
MAX_LINES = 1000
HISTORY_DAYS = 15
PURCHASES_LIST = "billing.package_purchases"
TERMINATED = "terminated"
P = PURCHASES.c
_PURCHASE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
K = PACKAGES.c


@dataclass(frozen=True, slots=True)
class PurchaseRequest:
    offer_code: str
    msisdns: Sequence[str] = ()
    node_id: str = ""
    personal_account_id: str = ""
    receipt_email: str = ""


@dataclass(frozen=True, slots=True)
class Bought:
    purchase: PackagePurchase
    packages: list[DataPackage]
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class ActivePackage:
    """A package a line may draw on now, as its usage shows it."""

    id: str
    offer_code: str
    scope: str
    bytes: int
    used: int
    expires_at: datetime

    @property
    def left(self) -> int:
        return max(self.bytes - self.used, 0)


@dataclass(frozen=True, slots=True)
class PurchaseFilter:
    created_from: datetime | None = None
    created_before: datetime | None = None
    msisdn: str = ""


def purchase_id(customer_id: str, user_id: str, key: str) -> str:
    if not key:
        return f"pkg:{new_id()}"
    digest = hashlib.sha256(f"{customer_id}\x1f{user_id}\x1f{key}".encode()).hexdigest()
    return f"pkg:{digest[:48]}"


def entry_id(pid: str, chunk: int) -> str:
    seed = f"{pid}\x1f{chunk}"
    return f"package:{hashlib.sha256(seed.encode()).hexdigest()[:48]}"


def _offer(code: str) -> PackageOffer:
    found = offer(code)
    if found is None:
        raise InvalidArgument(
            "no such package offer", reason="UNKNOWN_OFFER", field_violations={"offer_code": "an offer's code"}
        )
    return found


def _common_node(paths: Iterable[tuple[str, ...]]) -> str:
    """The deepest node on every path (the company root at least)."""
    common: tuple[str, ...] | None = None
    for path in paths:
        if common is None:
            common = path
            continue
        n = 0
        while n < min(len(common), len(path)) and common[n] == path[n]:
            n += 1
        common = common[:n]
    return common[-1] if common else ""


class PackageService:
    def __init__(self, *, db: Database, clock: Clock, ledger: LedgerService) -> None:
        self._db = db
        self._clock = clock
        self._ledger = ledger

    # ------------------------------------------------------------- buying
    def _checked(self, request: PurchaseRequest, default_email: str) -> tuple[PackageOffer, list[str], str]:
        chosen = _offer(request.offer_code)
        problems: dict[str, str] = {}
        if chosen.scope == LINE:
            if not 1 <= len(request.msisdns) <= MAX_LINES:
                problems["msisdns"] = f"1 to {MAX_LINES} numbers"
            if request.node_id or request.personal_account_id:
                problems["node_id" if request.node_id else "personal_account_id"] = "only for a group package"
        else:
            if request.msisdns:
                problems["msisdns"] = "a group package is bought for a node, not for numbers"
            if not request.node_id:
                problems["node_id"] = "the node whose lines share the package"
            if not request.personal_account_id:
                problems["personal_account_id"] = "the personal account that pays"
        if problems:
            raise InvalidArgument(
                "the purchase does not fit its offer", reason="INVALID_PURCHASE", field_violations=problems
            )
        numbers = normalize_msisdns(list(request.msisdns), field="msisdns[{}]") if request.msisdns else []
        if len(set(numbers)) != len(numbers):
            raise InvalidArgument(
                "each number once", reason="DUPLICATE_MSISDN", field_violations={"msisdns": "a number is repeated"}
            )
        email = request.receipt_email or default_email
        email = normalize_email(email, field="receipt_email") if email else ""
        return chosen, numbers, email

    async def purchase(self, access: Access, request: PurchaseRequest, *, key: str, default_email: str = "") -> Bought:
        chosen, numbers, email = self._checked(request, default_email)
        pid = purchase_id(access.customer_id, access.user_id, key)
        digest = fingerprint(
            "BuyPackages",
            {
                "offer": chosen.code,
                "msisdns": sorted(numbers),
                "node": request.node_id,
                "account": request.personal_account_id,
                "email": email,
            },
        )
        async with self._db.transaction() as session:
            existing = await self._replayed(session, pid, digest, access)
            if existing is not None:
                return existing
            now = self._clock.now()
            expires = now + timedelta(days=chosen.validity_days)
            if chosen.scope == LINE:
                lines = await self._lines(session, access, numbers)
                payers = {line.personal_account_id for line in lines}
                scope_node = _common_node(
                    (await self._paths(session, access.customer_id, [line.node_id for line in lines])).values()
                )
                rows = [
                    _package(pid, chosen, access.customer_id, now, expires, line_id=line.line_id, msisdn=line.msisdn)
                    for line in lines
                ]
                bought_by_pa: dict[str, int] = defaultdict(int)  # packages each personal account pays for
                for line in lines:
                    bought_by_pa[line.personal_account_id] += 1
            else:
                paths = await self._paths(session, access.customer_id, [request.node_id, request.personal_account_id])
                access.check(BUY, paths.get(request.node_id), what="node")
                access.check(BUY, paths.get(request.personal_account_id), what="personal account")
                payers = {request.personal_account_id}
                scope_node = request.node_id
                rows = [_package(pid, chosen, access.customer_id, now, expires, node_id=request.node_id)]
                bought_by_pa = {request.personal_account_id: 1}
            accounts, currency = await self._accounts(session, access.customer_id, payers, named=chosen.scope == GROUP)
            priced = offer_in(chosen, currency)
            if priced is None:
                raise FailedPrecondition(
                    f"the package is not sold in {currency}",
                    reason="CURRENCY_MISMATCH",
                    metadata={"currency": currency},
                )
            chosen = priced
            owed = {accounts[pa]: n * chosen.price for pa, n in bought_by_pa.items()}
            entries = [entry_id(pid, chunk) for chunk in range(-(-len(owed) // (MAX_LEGS - 1)))]
            amount = chosen.price * len(rows)
            money.amount(amount, field="msisdns")
            claimed = await session.execute(
                insert_ignoring_conflicts(session, PURCHASES),
                {
                    "id": pid,
                    "customer_id": access.customer_id,
                    "offer_code": chosen.code,
                    "offer_name": chosen.name,
                    "scope": chosen.scope,
                    "node_id": request.node_id if chosen.scope == GROUP else "",
                    "scope_node_id": scope_node,
                    "personal_account_id": request.personal_account_id if chosen.scope == GROUP else "",
                    "bytes": chosen.bytes,
                    "validity_days": chosen.validity_days,
                    "currency": chosen.currency,
                    "unit_price": chosen.price,
                    "quantity": len(rows),
                    "amount": amount,
                    "buyer_id": access.user_id,
                    "receipt_email": email,
                    "fingerprint": digest,
                    "entry_ids": entries,
                    "created_at": now,
                },
            )
            if not claimed.rowcount:  # type: ignore[attr-defined]
                # The same key won a race a moment ago: its purchase answers.
                raced = await self._replayed(session, pid, digest, access)
                assert raced is not None
                return raced
            await session.execute(sa.insert(PACKAGES), rows)
            if email:
                await session.execute(
                    sa.insert(RECEIPTS),
                    {
                        "purchase_id": pid,
                        "email": email,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "sent_at": None,
                        "last_error": "",
                    },
                )
            revenue = await self._ledger.operator_account_id(session, REVENUE, chosen.currency)
            payers_sorted = sorted(owed)
            for chunk, eid in enumerate(entries):
                part = payers_sorted[chunk * (MAX_LEGS - 1) : (chunk + 1) * (MAX_LEGS - 1)]
                legs = [Leg(account, DEBIT, owed[account]) for account in part]
                legs.append(Leg(revenue, CREDIT, sum(owed[account] for account in part)))
                await self._ledger.post_in(
                    session,
                    NewEntry(
                        id=eid,
                        kind="package",
                        currency=chosen.currency,
                        legs=tuple(legs),
                        description=f"data package {chosen.code}",
                    ),
                )
            if chosen.scope == LINE:
                period = f"{now.year:04d}-{now.month:02d}"
                await add_spend(session, {(row["line_id"], period, chosen.currency): chosen.price for row in rows})
            purchase = await session.get(PackagePurchase, pid)
            assert purchase is not None
            packages = await self._packages_of(session, pid)
        metrics.PACKAGES_BOUGHT.labels(chosen.scope).inc(len(rows))
        return Bought(purchase, packages)

    async def _replayed(self, session: AsyncSession, pid: str, digest: str, access: Access) -> Bought | None:
        """The purchase already made under this id, once the caller may still buy for all it was made for."""
        existing = await session.get(PackagePurchase, pid)
        if existing is None:
            return None
        packages = await self._packages_of(session, pid)
        line_ids = [p.line_id for p in packages if p.line_id]
        nodes = {p.node_id: p.node_id for p in packages if p.node_id}
        if line_ids:
            c = LINES.c
            rows = await session.execute(sa.select(c.line_id, c.node_id).where(c.line_id.in_(line_ids)))
            nodes.update({row.line_id: row.node_id for row in rows})
        paths = await self._paths(session, access.customer_id, list(nodes.values()))
        for node in nodes.values():
            access.check(BUY, paths.get(node), what="line")
        check_same_request(existing.fingerprint, digest, field="idempotency_key")
        return Bought(existing, packages, replayed=True)

    async def _packages_of(self, session: AsyncSession, pid: str) -> list[DataPackage]:
        query = (
            sa.select(DataPackage).where(DataPackage.purchase_id == pid).order_by(DataPackage.msisdn, DataPackage.id)
        )
        return list((await session.scalars(query)).all())

    async def _paths(
        self, session: AsyncSession, customer_id: str, node_ids: Sequence[str]
    ) -> dict[str, tuple[str, ...]]:
        wanted = [n for n in dict.fromkeys(node_ids) if n and is_node_id(n)]  # a forged id names nothing
        if not wanted:
            return {}
        t = NODE_PATHS.c
        rows = await session.execute(
            sa.select(t.node_id, t.path).where(t.customer_id == customer_id, t.node_id.in_(wanted))
        )
        return {row.node_id: path_ids(row.path) for row in rows}

    async def _lines(self, session: AsyncSession, access: Access, numbers: list[str]) -> list[Any]:
        found: dict[str, Any] = {}
        c = LINES.c
        for start in range(0, len(numbers), 500):
            rows = await session.execute(
                sa.select(c.line_id, c.msisdn, c.node_id, c.personal_account_id).where(
                    c.customer_id == access.customer_id,
                    c.msisdn.in_(numbers[start : start + 500]),
                    c.state != TERMINATED,
                )
            )
            for row in rows:
                found[row.msisdn] = row
        paths = await self._paths(session, access.customer_id, [row.node_id for row in found.values()])
        for i, number in enumerate(numbers):
            line = found.get(number)
            try:
                access.check(BUY, None if line is None else paths.get(line.node_id), what="line")
            except NotFound as exc:
                raise NotFound(
                    "the line does not exist", reason="LINE_NOT_FOUND", metadata={"msisdn": number, "index": str(i)}
                ) from exc
        return [found[number] for number in numbers]

    async def _accounts(
        self, session: AsyncSession, customer_id: str, personal_account_ids: set[str], *, named: bool
    ) -> tuple[dict[str, str], str]:
        """(personal account id → its ledger account id, their currency); every one must exist, all in one currency."""
        a = ACCOUNTS.c
        rows = await session.execute(
            sa.select(a.personal_account_id, a.id, a.currency).where(
                a.customer_id == customer_id,
                a.owner_key.in_([f"personal:{pa}" for pa in personal_account_ids]),
            )
        )
        found = {row.personal_account_id: row for row in rows}
        currencies = set()
        for pa in sorted(personal_account_ids):
            row = found.get(pa)
            if row is None and named:
                raise NotFound("the personal account does not exist", reason="PERSONAL_ACCOUNT_NOT_FOUND")
            if row is None:  # a line's account (in scope with the line) that billing keeps no money for
                raise FailedPrecondition(
                    "billing keeps no money for the line's personal account",
                    reason="NO_LEDGER_ACCOUNT",
                    metadata={"personal_account_id": pa},
                )
            currencies.add(row.currency)
        if len(currencies) != 1:
            raise FailedPrecondition(
                f"the lines' personal accounts hold different currencies ({', '.join(sorted(currencies))}): "
                "buy for each currency's lines apart",
                reason="CURRENCY_MISMATCH",
            )
        return {pa: found[pa].id for pa in personal_account_ids}, currencies.pop()

    # ------------------------------------------------------------ reading
    async def get(self, access: Access, pid: str) -> Bought:
        async with self._db.sessions() as session:
            purchase = await session.get(PackagePurchase, pid) if _PURCHASE_ID.match(pid) else None
            if purchase is None or purchase.customer_id != access.customer_id:
                raise NotFound("no such purchase", reason="PURCHASE_NOT_FOUND")
            paths = await self._paths(session, access.customer_id, [purchase.scope_node_id])
            path = paths.get(purchase.scope_node_id)
            if path is None or not access.sees(path) or READ not in access.permissions_at(path):
                raise NotFound("no such purchase", reason="PURCHASE_NOT_FOUND")
            return Bought(purchase, await self._packages_of(session, pid))

    async def history(
        self, access: Access, flt: PurchaseFilter, *, page_size: int, page_token: str
    ) -> tuple[list[PackagePurchase], str]:
        size = paging.page_size(page_size)
        order = paging.parse_order("", allowed=("created_at",), default="-created_at")
        after = paging.decode_token(page_token, order, list_name=PURCHASES_LIST, size=2)
        roots = access.roots(READ)
        if not roots:
            return [], ""
        created_from = flt.created_from
        if created_from is None and flt.created_before is None:
            created_from = self._clock.now() - timedelta(days=HISTORY_DAYS)
        n = NODE_PATHS.c
        visible = sa.select(n.node_id).where(
            n.customer_id == access.customer_id, sa.or_(*[n.path.contains(f"/{root}/") for root in roots])
        )
        query = sa.select(PackagePurchase).where(
            PackagePurchase.customer_id == access.customer_id, PackagePurchase.scope_node_id.in_(visible)
        )
        if created_from is not None:
            query = query.where(PackagePurchase.created_at >= created_from)
        if flt.created_before is not None:
            query = query.where(PackagePurchase.created_at < flt.created_before)
        if flt.msisdn:
            query = query.where(
                PackagePurchase.id.in_(
                    sa.select(K.purchase_id).where(K.customer_id == access.customer_id, K.msisdn == flt.msisdn)
                )
            )
        query = paging.keyset(
            query, [PackagePurchase.created_at, PackagePurchase.id], order=order, after=after, limit=size
        )
        async with self._db.sessions() as session:
            rows = list((await session.scalars(query)).all())
        return paging.next_token(
            rows, order=order, limit=size, key=lambda p: [p.created_at, p.id], list_name=PURCHASES_LIST
        )

    async def active_for_line(self, line: Any) -> list[ActivePackage]:
        """The packages ``line`` may draw on now (its own, and its nodes' groups), the first to expire first.

        Read on the driver (``direct``): on SQLite a line's usage page never waits for rating's write transaction.
        """
        found = await self._db.direct.first(_NODE_PATH, {"customer_id": line.customer_id, "node_id": line.node_id})
        path = path_ids(found.path) if found is not None else ()
        rows = await self._db.direct.all(
            _active_for_line(self._db.engine.dialect.name),
            {
                "customer_id": line.customer_id,
                "line_id": line.line_id,
                "nodes": list(path),
                "now": self._clock.now(),
            },
        )
        return [ActivePackage(r.id, r.offer_code, r.scope, r.bytes, r.used, r.expires_at) for r in rows]


_NODE_PATH = sa.select(NODE_PATHS.c.path).where(
    NODE_PATHS.c.customer_id == sa.bindparam("customer_id"), NODE_PATHS.c.node_id == sa.bindparam("node_id")
)


@functools.cache
def _active_for_line(dialect: str) -> sa.Select[Any]:
    now = sa.bindparam("now", type_=K.expires_at.type)
    return (
        sa.select(PACKAGES, P.scope)
        .join(PURCHASES, P.id == K.purchase_id)
        .where(
            K.customer_id == sa.bindparam("customer_id"),
            sa.or_(K.line_id == sa.bindparam("line_id"), one_of(K.node_id, "nodes", dialect)),
            K.starts_at <= now,
            K.expires_at > now,
        )
        .order_by(K.expires_at, K.id)
    )


def _package(
    pid: str,
    chosen: PackageOffer,
    customer_id: str,
    now: datetime,
    expires: datetime,
    *,
    line_id: str = "",
    msisdn: str = "",
    node_id: str = "",
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "purchase_id": pid,
        "customer_id": customer_id,
        "offer_code": chosen.code,
        "line_id": line_id,
        "msisdn": msisdn,
        "node_id": node_id,
        "bytes": chosen.bytes,
        "used": 0,
        "starts_at": now,
        "expires_at": expires,
    }


# ----------------------------------------------------------------- rating
class RatingPackages:
    """The packages a batch of records may draw on, locked on PostgreSQL, and what they gave."""

    def __init__(self) -> None:
        self.by_line: dict[str, list[Package]] = {}
        self.left: dict[str, int] = {}
        self.drawn: dict[str, int] = defaultdict(int)

    @classmethod
    async def load(cls, session: AsyncSession, line_ids: set[str], since: datetime) -> RatingPackages:
        """The line packages of ``line_ids`` and the group packages of their nodes (ancestors included)
        that end after ``since`` and have bytes left."""
        book = cls()
        if not line_ids:
            return book
        queries = _rating_queries(session.get_bind().dialect.name)
        lines = (await session.execute(queries.lines, {"lines": list(line_ids)})).all()
        paths = {
            node_id: path_ids(path)
            for node_id, path in await session.execute(queries.paths, {"nodes": list({line.node_id for line in lines})})
        }
        nodes = {node for line in lines for node in paths.get(line.node_id, (line.node_id,))}
        query = queries.packages
        rows = (await session.execute(query, {"lines": list(line_ids), "nodes": list(nodes), "since": since})).all()
        of_line: dict[str, list[Any]] = defaultdict(list)
        of_node: dict[str, list[Any]] = defaultdict(list)
        for row in rows:
            if row.line_id:
                of_line[row.line_id].append(row)
            if row.node_id:
                of_node[row.node_id].append(row)
        for line in lines:
            mine = {row.id: row for row in of_line.get(line.line_id, ())}
            for node in paths.get(line.node_id, (line.node_id,)):
                mine.update((row.id, row) for row in of_node.get(node, ()))
            book.by_line[line.line_id] = [
                Package(row.id, row.starts_at, row.expires_at)
                for _, row in sorted(mine.items())
                if row.customer_id == line.customer_id
            ]
        book.left = {row.id: row.bytes - row.used for row in rows}
        return book

    def take(self, drawn: Iterable[tuple[str, int]]) -> None:
        for pid, n in drawn:
            self.left[pid] -= n
            self.drawn[pid] += n

    async def keep(self, session: AsyncSession) -> None:
        if not self.drawn:
            return
        await session.execute(
            sa.update(PACKAGES)
            .where(K.id == sa.bindparam("b_id"))
            .values(used=K.used + sa.bindparam("b_n", type_=sa.BigInteger())),
            [{"b_id": pid, "b_n": n} for pid, n in sorted(self.drawn.items())],
        )


def plain_amount(value: int, currency: str) -> str:
    """``1500.00 RUB``: the amount with its currency's minor-unit digits."""
    digits = money.exponent(currency)
    sign = "-" if value < 0 else ""
    whole, part = divmod(abs(value), 10**digits)
    return f"{sign}{whole}.{part:0{digits}d} {currency}" if digits else f"{sign}{whole} {currency}"


def receipt_text(purchase: PackagePurchase, packages: Sequence[DataPackage]) -> str:
    """The receipt as the buyer reads it (plain text)."""
    lines = [
        "SIMfleet - receipt",
        "",
        f"Receipt number: {purchase.id}",
        f"Date: {purchase.created_at:%Y-%m-%d %H:%M} UTC",
        f"Buyer: {purchase.buyer_id}",
        f"Offer: {purchase.offer_name} ({purchase.offer_code})",
        f"Valid for: {purchase.validity_days} days",
    ]
    if purchase.scope == GROUP:
        lines.append(f"Group node: {purchase.node_id}")
        lines.append(f"Paid from personal account: {purchase.personal_account_id}")
    else:
        lines.append(f"Lines ({purchase.quantity}):")
        lines.extend(f"  {package.msisdn}" for package in packages)
    lines += [
        "",
        f"Price: {plain_amount(purchase.unit_price, purchase.currency)} x {purchase.quantity}",
        f"Amount: {plain_amount(purchase.amount, purchase.currency)}",
        "",
    ]
    return "\n".join(lines)


__all__ = [
    "ActivePackage",
    "Bought",
    "PackageService",
    "PurchaseFilter",
    "PurchaseRequest",
    "RatingPackages",
    "receipt_text",
]


@dataclass(frozen=True, slots=True)
class _RatingQueries:
    """What rating reads of packages, per dialect, each list bound as one parameter (``one_of``)."""

    lines: sa.Select[Any]
    paths: sa.Select[Any]
    packages: sa.Select[Any]


@functools.cache
def _rating_queries(dialect: str) -> _RatingQueries:
    c, n = LINES.c, NODE_PATHS.c
    packages = (
        sa.select(K.id, K.customer_id, K.line_id, K.node_id, K.bytes, K.used, K.starts_at, K.expires_at)
        .where(
            sa.or_(one_of(K.line_id, "lines", dialect), one_of(K.node_id, "nodes", dialect)),
            K.expires_at > sa.bindparam("since", type_=K.expires_at.type),
            K.used < K.bytes,
        )
        .order_by(K.id)
    )
    if dialect == "postgresql":
        # Two replicas rating lines that share a package: the second waits and reads what the first took.
        packages = packages.with_for_update()
    return _RatingQueries(
        lines=sa.select(c.line_id, c.customer_id, c.node_id).where(one_of(c.line_id, "lines", dialect)),
        paths=sa.select(n.node_id, n.path).where(one_of(n.node_id, "nodes", dialect)),
        packages=packages,
    )
