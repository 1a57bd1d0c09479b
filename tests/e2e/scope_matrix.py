"""The scope matrix as data (OWASP API1, API5): which answer each endpoint owes each caller.

A row is an endpoint called on one object: a node, a user with a grant at a
node, a line (a number under a node), an operation (made by the node's owner
on the node's lines), or none (the customer's stock). The object lies inside
the caller's scope, outside it, or at another customer. Most endpoints name
their object (``reach="object"``), and the expected answer follows from the row:

* outside the scope, or another customer's: 404, exactly as for nothing at all;
* inside, where the row's object is only visible with certain permissions
  (users are visible to those who may read users, operations to those who may
  read lines) and the caller holds none of them there: 404 too;
* inside, without the permission the row needs there: 403;
* otherwise the row's success status.

Some endpoints name no object of the place (``reach="customer"``): a list of
everything in the caller's scope, the customer's stock, an operation on lines
given by number (a number outside the scope is not an error: its item is
skipped as unknown). Their answer cannot depend on the place, or it would tell
what lies outside: it is 403 without the permission anywhere, the row's success
otherwise. What the place changes is whether the caller reaches the object —
``shows`` says where that is seen: the object is listed, or the operation's item
for the line is not skipped ``NOT_FOUND`` — and they reach it exactly when it is
inside, visible to them and with the row's permission there.

Later services add their rows (bills...) to ``ROWS``; billing's rows name a personal account
(``obj="account"``), ticketing's a ticket filed at the place's node by its owner (``obj="ticket"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

Place = Literal["inside", "outside", "other customer"]
Obj = Literal["none", "node", "user", "line", "operation", "account", "limit", "ticket"]
"""``account``: a personal account itself (billing's rows): the matrix customer's inside and outside (it hangs in
the billing tree beside the departments, so only a company grant reaches it), the rival's at the other customer.
``limit``: a spending limit set on the place's node by its owner (billing's ``/v1/spending-limits/{limit}``).
``ticket``: a ticket filed at the place's node by its owner (ticketing's ``/v1/tickets/{ticket}``)."""


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    path: str
    """With ``{node}`` (the object's node), ``{user}`` (user rows), ``{line}`` (line rows: its number),
    ``{operation}`` (operation rows: its id), ``{home}`` (a node in every caller's scope), ``{account}``
    (a personal account of the caller's customer, see ``names_account``), ``{account2}`` (another one,
    holding no money), ``{limit}`` (limit rows: a spending limit's id) and ``{ticket}`` (ticket rows: a ticket's
    id) filled in."""
    success: int
    obj: Obj = "node"
    permission: str | None = None
    visible_with: frozenset[str] = field(default_factory=frozenset)
    """Permissions one of which makes the object visible at all (empty: any grant over it)."""
    body: dict[str, Any] | None = None
    reach: Literal["object", "customer"] = "object"
    shows: Literal["listed", "item"] | None = None
    """How a ``reach="customer"`` row shows whether the caller reached the object: ``listed`` (the answer's
    ``items`` hold it), ``item`` (the answer is an operation whose item for the line is not skipped NOT_FOUND)."""
    fresh: bool = False
    """Make a new object for each call even though the row only reads (a GET, otherwise one per place serves all)."""
    names_account: bool = False
    """The body also names ``{account}``. Personal accounts hang in the billing tree beside the departments, so
    only a company grant reaches one. It is checked after the row's object: where that would succeed, the account
    answers as a second object (404 out of the caller's scope, 403 without the permission there)."""

    @property
    def shares(self) -> bool:
        """Whether the row may call on one object of its place made for every caller: it changes nothing."""
        return self.method == "GET" and not self.fresh

    def expected(
        self, here: frozenset[str] | None, anywhere: frozenset[str], account: frozenset[str] | None = None
    ) -> int:
        """The status owed to a caller holding ``here`` at the object's node (None: not in their scope),
        ``anywhere`` in their whole scope and ``account`` at ``{account}``."""
        status = self._status(here, anywhere)
        if self.names_account and status == self.success:
            return self._status(account, anywhere)
        return status

    def _status(self, here: frozenset[str] | None, anywhere: frozenset[str]) -> int:
        if self.reach == "customer":
            held = anywhere
        elif here is None or (self.visible_with and not here & self.visible_with):
            return 404
        else:
            held = here
        if self.permission is not None and self.permission not in held:
            return 403
        return self.success

    def reaches(self, here: frozenset[str] | None) -> bool:
        """Whether a caller holding ``here`` at the object's node reaches it: it is visible, with the permission."""
        if here is None or (self.visible_with and not here & self.visible_with):
            return False
        return self.permission is None or self.permission in here


USERS_VISIBLE = frozenset({"users:read", "users:manage"})
OPERATIONS_VISIBLE = frozenset({"lines:read"})
"""Another user's operation is visible to those who may read lines at its node (its requester always sees it)."""
SCHEDULED_LATER = (datetime.now(UTC) + timedelta(days=60)).isoformat()
"""Later than the matrix runs, within the 90 days an operation may be scheduled ahead."""


def on_lines(name: str, type_: str, permission: str, **extra: Any) -> Row:
    """An operation on the row's line given by number: accepted anywhere the caller may do it at all."""
    return Row(
        name,
        "POST",
        "/v1/operations",
        202,
        obj="line",
        permission=permission,
        reach="customer",
        shows="item",
        body={"type": type_, **extra} if "items" in extra else {"type": type_, "lines": ["{line}"], **extra},
    )


ROWS: list[Row] = [
    Row("read a node", "GET", "/v1/nodes/{node}", 200),
    Row("read a node's summary", "GET", "/v1/nodes/{node}/summary", 200),
    Row("list a node's children", "GET", "/v1/nodes/{node}/children", 200),
    Row("rename a node", "PATCH", "/v1/nodes/{node}", 200, permission="hierarchy:manage", body={"name": "Renamed"}),
    Row(
        "create a node under it",
        "POST",
        "/v1/nodes",
        201,
        permission="hierarchy:manage",
        body={"parent_id": "{node}", "name": "Child", "kind": "city"},
    ),
    Row("delete a node", "DELETE", "/v1/nodes/{node}", 204, permission="hierarchy:manage"),
    Row("read a node's history", "GET", "/v1/audit-events?node_id={node}", 200, permission="audit:read"),
    Row("list a node's users", "GET", "/v1/users?node_id={node}", 200, permission="users:read"),
    Row("read a user", "GET", "/v1/users/{user}", 200, obj="user", visible_with=USERS_VISIBLE),
    Row(
        "give a user a grant",
        "POST",
        "/v1/users/{user}/grants",
        201,
        obj="user",
        visible_with=USERS_VISIBLE,
        permission="users:manage",
        body={"role": "coordinator_assistant", "node_id": "{node}"},
    ),
    Row(
        "disable a user",
        "POST",
        "/v1/users/{user}/disable",
        200,
        obj="user",
        visible_with=USERS_VISIBLE,
        permission="users:manage",
    ),
    # ---------------------------------------------------------------- lines and stock (inventory)
    Row("list a node's lines", "GET", "/v1/lines?node_id={node}", 200),
    Row(
        "find a line among all lines",
        "GET",
        "/v1/lines?q={line}",
        200,
        obj="line",
        permission="lines:read",
        reach="customer",
        shows="listed",
    ),
    Row("read a line", "GET", "/v1/lines/{line}", 200, obj="line", permission="lines:read"),
    Row("read a line's APNs", "GET", "/v1/lines/{line}/apns", 200, obj="line", permission="lines:read"),
    Row("locate a line", "GET", "/v1/lines/{line}/location", 200, obj="line", permission="lines:locate"),
    Row("read a line's PUK codes", "GET", "/v1/lines/{line}/puk", 200, obj="line", permission="lines:read-puk"),
    Row("read a line's usage and money", "GET", "/v1/lines/{line}/usage", 200, obj="line", permission="billing:read"),
    # Saved filters of lines (AC-5): each user's own, kept by whoever reads lines somewhere. Saving one for a node
    # is checked as a list of that node's lines is (404 outside the scope, 403 without lines:read there). Another
    # user's filter is a 404 like one that never was (services/inventory/tests/test_saved_filters.py); so is
    # this id, no one's.
    Row(
        "list one's saved filters of lines",
        "GET",
        "/v1/lines/saved-filters",
        200,
        obj="none",
        permission="lines:read",
        reach="customer",
    ),
    Row(
        "save a filter of a node's lines",
        "POST",
        "/v1/lines/saved-filters",
        201,
        permission="lines:read",
        body={"name": "Matrix {node}", "node_id": "{node}", "states": ["active"]},
    ),
    Row(
        "delete a saved filter that is no one's",
        "DELETE",
        "/v1/lines/saved-filters/01JA5F6G7H8J9K0M1N2P3Q4R5S",
        404,
        obj="none",
        permission="lines:read",
        reach="customer",
    ),
    Row("read the tariff catalogue", "GET", "/v1/tariffs", 200, obj="none", reach="customer"),
    Row("read the options catalogue", "GET", "/v1/options", 200, obj="none", reach="customer"),
    # A read sent as a POST (its lines in the body): lines outside the caller's scope are listed as not found,
    # the rest answered in ``items``; seen with lines:read or tariffs:change over the line.
    Row(
        "check which tariffs and options lines may take",
        "POST",
        "/v1/lines/availability",
        200,
        obj="line",
        visible_with=frozenset({"lines:read", "tariffs:change"}),
        body={"msisdns": ["{line}"], "tariff_code": "BIZ-L"},
        reach="customer",
        shows="listed",
    ),
    # The pool of free numbers is the operator's, offered to whoever may change a number or order SIMs
    # (the matrix's roles hold both or neither).
    Row(
        "list free numbers",
        "GET",
        "/v1/numbers/free",
        200,
        obj="none",
        permission="lines:change-number",
        reach="customer",
    ),
    # The customer's reserve SIMs (ICCIDs and IMSIs): for whoever may replace SIMs or order them somewhere
    # (the matrix's roles hold both or neither); a viewer is refused.
    Row(
        "list reserve SIMs",
        "GET",
        "/v1/sims/reserve",
        200,
        obj="none",
        permission="lines:replace-sim",
        reach="customer",
    ),
    # ---------------------------------------------------------------- operations (inventory)
    Row(
        "list operations",
        "GET",
        "/v1/operations",
        200,
        obj="operation",
        visible_with=OPERATIONS_VISIBLE,
        reach="customer",
        shows="listed",
        fresh=True,  # newest first: an operation made just before is on the first page
    ),
    Row(
        "read an operation", "GET", "/v1/operations/{operation}", 200, obj="operation", visible_with=OPERATIONS_VISIBLE
    ),
    Row(
        "read an operation's items",
        "GET",
        "/v1/operations/{operation}/items",
        200,
        obj="operation",
        visible_with=OPERATIONS_VISIBLE,
    ),
    Row(
        "follow an operation's events",
        "GET",
        "/v1/operations/{operation}/events",
        200,
        obj="operation",
        visible_with=OPERATIONS_VISIBLE,
    ),
    Row(
        "cancel an operation",
        "POST",
        "/v1/operations/{operation}/cancel",
        200,
        obj="operation",
        visible_with=OPERATIONS_VISIBLE,
        permission="lines:block",  # the permission of the operation's type (a block)
    ),
    Row(
        "block a node's lines",
        "POST",
        "/v1/operations",
        202,
        permission="lines:block",
        body={"type": "block", "selection": {"node_id": "{node}"}, "params": {"block_type": "voluntary"}},
    ),
    on_lines("block lines by number", "block", "lines:block", params={"block_type": "voluntary"}),
    on_lines("activate lines", "activate", "lines:activate"),
    on_lines(
        "replace a line's SIM",
        "replace_sim",
        "lines:replace-sim",
        items=[{"msisdn": "{line}", "params": {"iccid": "8970101000099999991"}}],
    ),
    on_lines(
        "change a line's number",
        "change_number",
        "lines:change-number",
        items=[{"msisdn": "{line}", "params": {"msisdn": "{line}"}}],
    ),
    on_lines("add an APN to lines", "add_apn", "lines:configure", params={"apn": "matrix.corp"}),
    on_lines(
        "forward lines' calls",
        "set_forwarding",
        "lines:configure",
        params={"condition": "busy", "target": "+79990001122"},
    ),
    on_lines("move a line to a node in scope", "move", "lines:move", params={"node_id": "{home}"}),
    # Where lines go must be in the caller's scope, with the permission: the destination is the row's object.
    Row(
        "move a line to a node",
        "POST",
        "/v1/operations",
        202,
        obj="line",
        permission="lines:move",
        body={"type": "move", "lines": ["{line}"], "params": {"node_id": "{node}"}},
    ),
    on_lines("send SMS to lines", "send_sms", "lines:send-sms", params={"text": "Matrix"}),
    # ---------------------------------------------------------------- a personal account's money (billing)
    Row(
        "read a personal account's balance",
        "GET",
        "/v1/personal-accounts/{account}/balance",
        200,
        obj="account",
        permission="billing:read",
    ),
    Row(
        "list a personal account's movements",
        "GET",
        "/v1/personal-accounts/{account}/postings",
        200,
        obj="account",
        permission="billing:read",
    ),
    Row(
        "read a personal account's statement of a month",
        "GET",
        "/v1/personal-accounts/{account}/statement",
        200,
        obj="account",
        permission="billing:read",
    ),
    Row("read a node's finances of a month", "GET", "/v1/nodes/{node}/finances", 200, permission="billing:read"),
    Row(
        "move money to another personal account",
        "POST",
        "/v1/personal-accounts/{account}/transfers",
        200,
        obj="account",
        permission="billing:pay",
        body={"to_personal_account_id": "{account2}", "amount": 1, "currency": "RUB"},
    ),
    Row(
        "set where a personal account's bills go",
        "PUT",
        "/v1/personal-accounts/{account}/bill-delivery",
        200,
        obj="account",
        permission="billing:pay",
        body={"email": "bills@matrix.example"},
    ),
    Row(
        "top a personal account up by card",
        "POST",
        "/v1/personal-accounts/{account}/payments",
        201,
        obj="account",
        permission="billing:pay",
        body={"amount": 100, "currency": "RUB", "card_token": "tok_matrix"},
    ),
    Row(
        "list a personal account's payments",
        "GET",
        "/v1/personal-accounts/{account}/payments",
        200,
        obj="account",
        permission="billing:read",
    ),
    Row(
        "read a personal account's automatic payment",
        "GET",
        "/v1/personal-accounts/{account}/auto-payment",
        200,
        obj="account",
        permission="billing:read",
    ),
    Row(
        "set a personal account's automatic payment",
        "PUT",
        "/v1/personal-accounts/{account}/auto-payment",
        200,
        obj="account",
        permission="billing:pay",
        body={"threshold": -100, "amount": 100, "currency": "RUB", "card_token": "tok_matrix"},
    ),
    Row(
        "stop a personal account's automatic payment",
        "DELETE",
        "/v1/personal-accounts/{account}/auto-payment",
        204,
        obj="account",
        permission="billing:pay",
    ),
    # Promised payments: an amount over the limit is refused (422 AMOUNT_TOO_LARGE) after the scope and the
    # permission are decided, so the matrix proves the checks without taking one (an account has one open at most).
    Row(
        "take a promised payment on a personal account",
        "POST",
        "/v1/personal-accounts/{account}/promised-payments",
        422,
        obj="account",
        permission="billing:pay",
        body={"amount": 10**12},
    ),
    Row(
        "take a promised payment for a line",
        "POST",
        "/v1/lines/{line}/promised-payment",
        422,
        obj="line",
        permission="billing:pay",
        body={"amount": 10**12},
    ),
    Row(
        "take promised payments for a group",
        "POST",
        "/v1/nodes/{node}/promised-payments",
        422,
        permission="billing:pay",
        body={"amount": 10**12},
    ),
    Row(
        "take promised payments for a group, an amount per currency",
        "POST",
        "/v1/nodes/{node}/promised-payments",
        422,
        permission="billing:pay",
        body={"amounts": {"RUB": 10**12, "IRR": 10**12}},
    ),
    Row(
        "list a personal account's promised payments",
        "GET",
        "/v1/personal-accounts/{account}/promised-payments",
        200,
        obj="account",
        permission="billing:read",
    ),
    # No promised payment of that id: 404 once the account is reached, 403 without the permission.
    Row(
        "read a promised payment",
        "GET",
        "/v1/personal-accounts/{account}/promised-payments/pp:none",
        404,
        obj="account",
        permission="billing:read",
    ),
    Row(
        "repay a promised payment",
        "POST",
        "/v1/personal-accounts/{account}/promised-payments/pp:none/repay",
        404,
        obj="account",
        permission="billing:pay",
    ),
    Row(
        "read a personal account's settlement method",
        "GET",
        "/v1/personal-accounts/{account}/settlement-method",
        200,
        obj="account",
        permission="billing:read",
    ),
    Row(
        "choose a personal account's settlement method",
        "PUT",
        "/v1/personal-accounts/{account}/settlement-method",
        200,
        obj="account",
        permission="billing:pay",
        body={"method": "prepaid"},  # as it is: a change in the history, the account's money unmoved
    ),
    # ---------------------------------------------------------------- spending limits (billing, BI-10)
    Row(
        "set a spending limit on a node",
        "POST",
        "/v1/spending-limits",
        201,
        permission="billing:pay",
        body={
            "scope": "node",
            "node_id": "{node}",
            "amount": 100_000,
            "currency": "RUB",
            "action": "block",
            "notify": [],
        },
    ),
    Row(
        "list the spending limits under a node",
        "GET",
        "/v1/spending-limits?node_id={node}",
        200,
        permission="billing:read",
    ),
    Row(
        "list spending limits",
        "GET",
        "/v1/spending-limits",
        200,
        obj="limit",
        permission="billing:read",
        reach="customer",
        shows="listed",
    ),
    Row("read a spending limit", "GET", "/v1/spending-limits/{limit}", 200, obj="limit", permission="billing:read"),
    Row(
        "change a spending limit",
        "PUT",
        "/v1/spending-limits/{limit}",
        200,
        obj="limit",
        permission="billing:pay",
        body={"amount": 200_000, "currency": "RUB", "action": "warn", "notify": ["+79990001122"]},
    ),
    Row("delete a spending limit", "DELETE", "/v1/spending-limits/{limit}", 204, obj="limit", permission="billing:pay"),
    # ---------------------------------------------------------------- data packages (billing, BI-7)
    Row("list the data package offers", "GET", "/v1/packages/offers", 200, obj="none", reach="customer"),
    # Lists what the caller may read (billing:read where it was bought): never refused, possibly empty.
    Row("list data package purchases", "GET", "/v1/packages/purchases", 200, obj="none", reach="customer"),
    # The matrix's lines name their department as personal account, which holds no money: where the caller
    # may buy, billing answers 409 NO_LEDGER_ACCOUNT after the scope check (nothing is bought, so no row
    # changes anything a later call sees).
    Row(
        "buy a data package for a line",
        "POST",
        "/v1/packages/purchases",
        409,
        obj="line",
        permission="packages:buy",
        body={"offer_code": "DATA-1G", "msisdns": ["{line}"]},
    ),
    # ---------------------------------------------------------------- tickets (ticketing, TK-1, TK-2)
    Row(
        "file a ticket under a node",
        "POST",
        "/v1/tickets",
        201,
        permission="tickets:write",
        body={"node_id": "{node}", "type": "question", "topic": "Matrix question", "description": "A question."},
    ),
    Row("list the tickets under a node", "GET", "/v1/tickets?node_id={node}", 200, permission="tickets:read"),
    Row(
        "list tickets",
        "GET",
        # Every row on a ticket that writes files its own: the object must not fall off a short first page.
        "/v1/tickets?limit=1000",
        200,
        obj="ticket",
        permission="tickets:read",
        reach="customer",
        shows="listed",
    ),
    Row("read a ticket", "GET", "/v1/tickets/{ticket}", 200, obj="ticket", permission="tickets:read"),
    Row("read a ticket's history", "GET", "/v1/tickets/{ticket}/history", 200, obj="ticket", permission="tickets:read"),
    Row(
        "write in a ticket",
        "POST",
        "/v1/tickets/{ticket}/notes",
        201,
        obj="ticket",
        permission="tickets:write",
        body={"body": "Any news?"},
    ),
    Row("cancel a ticket", "POST", "/v1/tickets/{ticket}/cancel", 200, obj="ticket", permission="tickets:write"),
    # The ticket is acknowledged, not resolved: where the caller may write, ticketing refuses the move itself
    # (409 TRANSITION_NOT_ALLOWED) after the scope check, and nothing changes.
    Row("reopen a ticket", "POST", "/v1/tickets/{ticket}/reopen", 409, obj="ticket", permission="tickets:write"),
    Row(
        "confirm a ticket's resolution",
        "POST",
        "/v1/tickets/{ticket}/confirm-resolution",
        409,
        obj="ticket",
        permission="tickets:write",
    ),
    # A file's bytes are the body as sent: the matrix's JSON body is a small UTF-8 text file.
    Row(
        "upload a file to a ticket",
        "POST",
        "/v1/tickets/{ticket}/attachments?filename=matrix.txt",
        201,
        obj="ticket",
        permission="tickets:write",
        body={"matrix": "a file"},
    ),
    # No such file: where the caller may read the ticket, ticketing looks for it after the scope check and
    # answers 404 ATTACHMENT_NOT_FOUND; elsewhere the ticket is not found (404) or not readable (403).
    Row(
        "download a ticket's file",
        "GET",
        "/v1/tickets/{ticket}/attachments/01JA5F6G7H8J9K0M1N2P3Q4R6A",
        404,
        obj="ticket",
        permission="tickets:read",
    ),
    # The forms library (TK-3): any signed-in user reads the catalogue; a form is filled in for a node where the
    # caller may file tickets, with names ticketing asks accounts for with the caller's own token.
    Row("list the forms", "GET", "/v1/forms", 200, obj="none", reach="customer"),
    Row(
        "fill in a form for a node",
        "POST",
        "/v1/forms/contract_details_change/fill",
        200,
        permission="tickets:write",
        body={"node_id": "{node}", "fields": {"detail": "signatory"}},
    ),
    # ---------------------------------------------------------------- notices (notifications, NO-1)
    # The caller's own preferences and notices: every user has them, whatever their grants; what a notice may
    # tell of is decided by notifications from the grants (services/notifications/tests/test_notices.py).
    Row(
        "read one's notification preferences",
        "GET",
        "/v1/me/notification-preferences",
        200,
        obj="none",
        reach="customer",
    ),
    Row(
        "choose one's notices",
        "PUT",
        "/v1/me/notification-preferences",
        200,
        obj="none",
        reach="customer",
        body={"kinds": {"ticket_reply": ["sms"]}, "language": "en"},
    ),
    Row("list one's notices", "GET", "/v1/me/notices", 200, obj="none", reach="customer"),
    on_lines("terminate lines", "terminate", "lines:terminate"),
    on_lines("change lines' tariff", "change_tariff", "tariffs:change", params={"tariff_code": "BIZ-L"}),
    on_lines(
        "connect and disconnect lines' services",
        "set_services",
        "tariffs:change",
        params={"connect": ["roaming"], "disconnect": ["international"]},
    ),
    on_lines("label lines", "add_labels", "lines:label", params={"labels": ["matrix"]}),
    on_lines("take labels off lines", "remove_labels", "lines:label", params={"labels": ["matrix"]}),
    on_lines("put lines in a group", "set_group", "lines:label", params={"group": "Matrix"}),
    on_lines("take lines out of their group", "clear_group", "lines:label"),
    Row(
        "order SIM cards for a node",
        "POST",
        "/v1/sim-orders",
        202,
        permission="lines:order-sims",
        body={"node_id": "{node}", "personal_account_id": "{account}", "quantity": 1, "tariff": "BIZ-S"},
        names_account=True,  # new lines are billed to a personal account: a node of a department is not one
    ),
]
