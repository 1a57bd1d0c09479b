"""Customers managing their own users, grants and roles (ID-8 to ID-11): scope, no escalation, disabling."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from identity.users.models import User
from simfleet.events.v1 import accounts_pb2 as accounts_ev
from simfleet.events.v1 import audit_pb2 as audit_ev
from simfleet.events.v1 import identity_pb2 as ev
from simfleet_runtime.auth import Principal
from simfleet_runtime.authz import Access
from simfleet_runtime.bus.consumer import Event
from simfleet_runtime.context import CallContext
from simfleet_runtime.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, Unauthenticated
from simfleet_runtime.ids import new_id

from .conftest import CALL, CUSTOMER, Harness

PASSWORD = "Directory-Passw0rd-2026"


@dataclass
class Tree:
    company: str
    sales: str
    north: str
    finance: str
    regions: str


async def node_event(h: Harness, subject: str, message: object) -> None:
    handle = h.identity.paths.handler()
    data = message.SerializeToString()  # type: ignore[attr-defined]
    async with h.db.transaction() as session:
        await handle(session, Event(new_id(), subject, data, {}, CUSTOMER, 1))


async def created(h: Harness, node: str, parent: str, parent_path: str) -> str:
    path = f"{parent_path}{node}/"
    snapshot = accounts_ev.NodeSnapshot(node_id=node, customer_id=CUSTOMER, parent_id=parent, path=path)
    await node_event(h, "simfleet.accounts.node.created", accounts_ev.NodeCreated(node=snapshot))
    return path


@pytest.fixture
async def tree(harness: Harness) -> Tree:
    ids = Tree(*(new_id() for _ in range(5)))
    root = await created(harness, ids.company, "", "/")
    sales = await created(harness, ids.sales, ids.company, root)
    await created(harness, ids.north, ids.sales, sales)
    await created(harness, ids.finance, ids.company, root)
    await created(harness, ids.regions, ids.company, root)
    return ids


async def person(h: Harness, phone: str, *grants: tuple[str, str]) -> tuple[User, Access]:
    user = await h.identity.users.create(
        customer_id=CUSTOMER,
        phone=phone,
        email=f"{phone[1:]}@demo.example",
        display_name=f"User {phone[-3:]}",
        password=PASSWORD,
        grant_specs=list(grants),
    )
    principal = Principal(user.id, CUSTOMER, new_id(), new_id(), 0.0)
    return user, await h.identity.directory.access(principal)


async def test_a_manager_invites_a_user_who_gets_an_sms(harness: Harness, tree: Tree) -> None:
    directory = harness.identity.directory
    _, manager = await person(harness, "+79990000101", ("profile_manager", tree.company))
    user, held = await directory.invite(
        manager,
        phone="+79990000102",
        email="new@demo.example",
        display_name="New Colleague",
        specs=[("viewer", tree.sales)],
    )
    assert [(g.role.id, g.record.node_id) for g in held] == [("viewer", tree.sales)]
    (invitation,) = await harness.sms_to("+79990000102")
    assert "sign in" in invitation
    assert user.password_hash is None  # they set one by one-time code
    users, _ = await directory.find(manager)
    assert {u.phone for u in users} == {"+79990000101", "+79990000102"}
    with pytest.raises(InvalidArgument):
        await directory.invite(manager, phone="+79990000103", email="x@demo.example", display_name="No grant", specs=[])


async def test_nobody_grants_beyond_their_scope_or_their_permissions(harness: Harness, tree: Tree) -> None:
    directory = harness.identity.directory
    _, manager = await person(harness, "+79990000111", ("profile_manager", tree.company))
    lead_role = await harness.identity_roles.create(
        manager, name="Sales lead", description="", permissions=["users:manage", "users:read", "lines:read"]
    )
    _, lead = await person(harness, "+79990000112", (lead_role.role.id, tree.sales))
    target, _ = await person(harness, "+79990000113", ("viewer", tree.north))

    with pytest.raises(NotFound):  # Finance is outside the lead's scope
        await directory.add_grant(lead, user_id=target.id, role="viewer", node_id=tree.finance)
    with pytest.raises(PermissionDenied) as beyond:  # number managers may block lines; the lead may not
        await directory.add_grant(lead, user_id=target.id, role="number_manager", node_id=tree.north)
    assert beyond.value.reason == "GRANT_EXCEEDS_YOURS" and "lines:block" in beyond.value.metadata["permissions"]
    smaller = await harness.identity_roles.create(manager, name="Reader", description="", permissions=["lines:read"])
    added = await directory.add_grant(lead, user_id=target.id, role=smaller.role.id, node_id=tree.north)
    assert added.role.permissions == {"lines:read"}
    with pytest.raises(FailedPrecondition):
        await directory.add_grant(lead, user_id=target.id, role=smaller.role.id, node_id=tree.north)

    # A user whose grants all lie outside the lead's scope does not exist for the lead.
    outsider, _ = await person(harness, "+79990000114", ("viewer", tree.finance))
    with pytest.raises(NotFound):
        await directory.get(lead, outsider.id)
    assert outsider.id not in {u.id for u in (await directory.find(lead))[0]}
    # Grants outside the caller's scope are not shown either.
    await directory.add_grant(manager, user_id=target.id, role="viewer", node_id=tree.finance)
    shown = {g.record.node_id for g in await directory.grants_of(lead, target.id)}
    assert shown == {tree.north}
    with pytest.raises(PermissionDenied):  # the lead cannot disable someone with access beyond theirs
        await directory.set_status(lead, user_id=target.id, active=False)


async def test_disabling_ends_every_session_at_once(harness: Harness, tree: Tree) -> None:
    directory = harness.identity.directory
    _, manager = await person(harness, "+79990000121", ("profile_manager", tree.company))
    worker, worker_access = await person(harness, "+79990000122", ("viewer", tree.sales))
    tokens = await harness.identity.sign_in.password(phone=worker.phone, password=PASSWORD, call=CALL)
    disabled = await directory.set_status(manager, user_id=worker.id, active=False)
    assert disabled.status == "disabled"
    with pytest.raises(Unauthenticated):
        await harness.identity.sessions.authenticate(CallContext(bearer_token=tokens.access_token))
    with pytest.raises(Unauthenticated):
        await harness.identity.sessions.refresh(tokens.refresh_token)
    (payload,) = await harness.outbox("simfleet.identity.user.disabled")
    assert ev.UserDisabled.FromString(payload).user_id == worker.id
    with pytest.raises(Unauthenticated):  # the same answer as a wrong password
        await harness.identity.sign_in.password(phone=worker.phone, password=PASSWORD, call=CALL)
    with pytest.raises(FailedPrecondition) as own:
        await directory.set_status(manager, user_id=manager.user_id, active=False)
    assert own.value.reason == "OWN_ACCESS"
    await directory.set_status(manager, user_id=worker.id, active=True)
    await harness.identity.sign_in.password(phone=worker.phone, password=PASSWORD, call=CALL)
    del worker_access


async def test_moving_a_department_carries_its_users_scope(harness: Harness, tree: Tree) -> None:
    directory = harness.identity.directory
    _, head = await person(harness, "+79990000131", ("profile_manager", tree.sales))
    member, _ = await person(harness, "+79990000132", ("viewer", tree.north))
    company_path = f"/{tree.company}/"
    await node_event(
        harness,
        "simfleet.accounts.node.moved",
        accounts_ev.NodeMoved(
            node_id=tree.sales,
            customer_id=CUSTOMER,
            old_path=f"{company_path}{tree.sales}/",
            new_path=f"{company_path}{tree.regions}/{tree.sales}/",
        ),
    )
    paths = await harness.identity.paths.paths(CUSTOMER, [tree.north])
    assert paths[tree.north] == (tree.company, tree.regions, tree.sales, tree.north)
    assert (await directory.get(head, member.id)).id == member.id
    added = await directory.add_grant(head, user_id=member.id, role="viewer", node_id=tree.sales)
    assert added.record.node_id == tree.sales


async def test_custom_roles_follow_the_catalogue_and_cannot_widen_access(harness: Harness, tree: Tree) -> None:
    roles = harness.identity_roles
    _, manager = await person(harness, "+79990000141", ("profile_manager", tree.company))
    _, limited = await person(harness, "+79990000142", ("viewer", tree.company))
    names = [r.role.id for r in await roles.all_roles(manager)]
    first, token = await roles.page(manager, page_size=3)
    rest, end = await roles.page(manager, page_size=3, page_token=token)
    assert [r.role.id for r in first + rest] == names[:5] and end == ""
    found, _ = await roles.page(manager, query="MANAGER", order_by="name")
    assert [r.role.id for r in found] == ["account_manager", "number_manager", "profile_manager"]
    assert names[:5] == ["profile_manager", "account_manager", "number_manager", "viewer", "coordinator_assistant"]
    with pytest.raises(InvalidArgument):
        await roles.create(manager, name="Viewer", description="", permissions=["lines:read"])
    with pytest.raises(InvalidArgument):
        await roles.create(manager, name="Odd", description="", permissions=["lines:fly"])
    with pytest.raises(PermissionDenied):
        await roles.create(limited, name="Mine", description="", permissions=["lines:read"])
    blocker = await roles.create(manager, name="Blocker", description="blocks lines", permissions=["lines:block"])
    user, _ = await person(harness, "+79990000143", (blocker.role.id, tree.sales))
    with pytest.raises(FailedPrecondition) as in_use:
        await roles.delete(manager, role_id=blocker.role.id)
    assert in_use.value.reason == "ROLE_IN_USE"
    with pytest.raises(FailedPrecondition):
        await roles.update(manager, role_id="viewer", name="Viewer 2", description="", permissions=["lines:read"])
    updated = await roles.update(
        manager, role_id=blocker.role.id, name="Blocker", description="", permissions=["lines:block", "lines:read"]
    )
    assert updated.role.permissions == {"lines:block", "lines:read"}
    # The token issued next carries the new permissions.
    tokens = await harness.identity.sign_in.password(phone=user.phone, password=PASSWORD, call=CALL)
    principal, _ = await harness.identity.sessions.authenticate(CallContext(bearer_token=tokens.access_token))
    assert set(principal.claims["grants"][0]["perms"]) == {"lines:block", "lines:read"}
    (grant,) = await harness.identity.directory.grants_of(manager, user.id)
    await harness.identity.directory.remove_grant(manager, user_id=user.id, grant_id=grant.record.id)
    await roles.delete(manager, role_id=blocker.role.id)


async def test_grants_over_a_deleted_node_go_with_it(harness: Harness, tree: Tree) -> None:
    user, _ = await person(harness, "+79990000151", ("viewer", tree.north), ("viewer", tree.finance))
    handle = harness.identity.directory.node_events()
    deleted = accounts_ev.NodeDeleted(node_id=tree.north, customer_id=CUSTOMER, actor_id="someone")
    async with harness.db.transaction() as session:
        await handle(
            session, Event(new_id(), "simfleet.accounts.node.deleted", deleted.SerializeToString(), {}, CUSTOMER, 1)
        )
    async with harness.db.sessions() as session:
        from identity.grants import service as grants

        held = await grants.of_user(session, user.id)
    assert [r.node_id for r, _ in held] == [tree.finance]
    assert await harness.identity.paths.paths(CUSTOMER, [tree.north]) == {}
    (removed,) = await harness.outbox("simfleet.identity.grant.removed")
    assert ev.GrantChanged.FromString(removed).node_id == tree.north


async def test_a_users_grants_come_a_page_at_a_time(harness: Harness, tree: Tree) -> None:
    _, manager = await person(harness, "+79990000161", ("profile_manager", tree.company))
    user, _ = await person(harness, "+79990000162", ("viewer", tree.north), ("viewer", tree.finance))
    first, token = await harness.identity.directory.grants_page(manager, user.id, page_size=1)
    assert token
    rest, end = await harness.identity.directory.grants_page(manager, user.id, page_size=1, page_token=token)
    assert [g.record.node_id for g in first + rest] == [tree.north, tree.finance] and end == ""


async def test_editing_a_role_is_checked_against_every_grant_of_it(harness: Harness, tree: Tree) -> None:
    """The escalation: a department's user and role manager widens a role they hold over the whole company."""
    roles = harness.identity_roles
    _, owner = await person(harness, "+79990000171", ("profile_manager", tree.company))
    narrow = await roles.create(owner, name="Narrow", description="", permissions=["lines:read"])
    attacker_user, attacker = await person(
        harness, "+79990000172", ("profile_manager", tree.sales), (narrow.role.id, tree.company)
    )
    with pytest.raises(PermissionDenied) as widened:
        await roles.update(
            attacker,
            role_id=narrow.role.id,
            name="Narrow",
            description="",
            permissions=["lines:read", "users:manage"],
        )
    assert widened.value.reason == "ROLE_GRANTED_BEYOND_YOU"
    with pytest.raises(PermissionDenied):  # nor swap what the company-wide grant means
        await roles.update(attacker, role_id=narrow.role.id, name="Narrow", description="", permissions=["lines:block"])
    unchanged = {r.role.id: r.role for r in await roles.all_roles(owner)}[narrow.role.id]
    assert unchanged.permissions == {"lines:read"}
    # A rename changes no grant's meaning: anyone managing roles may do it.
    await roles.update(
        attacker, role_id=narrow.role.id, name="Narrow reads", description="", permissions=["lines:read"]
    )
    assert await harness.outbox("simfleet.identity.user.grants_revised") == []

    # The owner holds everything wherever the role is granted: the change is theirs to make, and the
    # holders' older tokens stop counting everywhere (the new version is published, and tokens carry it).
    await roles.update(
        owner, role_id=narrow.role.id, name="Narrow reads", description="", permissions=["lines:read", "lines:block"]
    )
    (revised,) = [ev.GrantsRevised.FromString(p) for p in await harness.outbox("simfleet.identity.user.grants_revised")]
    assert (revised.user_id, revised.grants_version, revised.cause) == (attacker_user.id, 1, "role_changed")
    tokens = await harness.identity.sign_in.password(phone=attacker_user.phone, password=PASSWORD, call=CALL)
    principal, _ = await harness.identity.sessions.authenticate(CallContext(bearer_token=tokens.access_token))
    assert principal.claims["gv"] == 1


async def test_every_grant_change_makes_older_tokens_stale(harness: Harness, tree: Tree) -> None:
    _, manager = await person(harness, "+79990000181", ("profile_manager", tree.company))
    user, _ = await person(harness, "+79990000182", ("viewer", tree.north))
    directory = harness.identity.directory
    added = await directory.add_grant(manager, user_id=user.id, role="viewer", node_id=tree.finance)
    await directory.remove_grant(manager, user_id=user.id, grant_id=added.record.id)
    handle = directory.node_events()
    deleted = accounts_ev.NodeDeleted(node_id=tree.north, customer_id=CUSTOMER, actor_id="someone")
    async with harness.db.transaction() as session:
        await handle(
            session, Event(new_id(), "simfleet.accounts.node.deleted", deleted.SerializeToString(), {}, CUSTOMER, 1)
        )
    revised = [ev.GrantsRevised.FromString(p) for p in await harness.outbox("simfleet.identity.user.grants_revised")]
    assert [(r.user_id, r.grants_version, r.cause) for r in revised] == [
        (user.id, 1, "grant_added"),
        (user.id, 2, "grant_removed"),
        (user.id, 3, "node_deleted"),
    ]


async def test_a_user_left_without_grants_stays_manageable_from_the_company(harness: Harness, tree: Tree) -> None:
    _, company_manager = await person(harness, "+79990000191", ("profile_manager", tree.company))
    _, sales_manager = await person(harness, "+79990000192", ("profile_manager", tree.sales))
    orphan, _ = await person(harness, "+79990000193", ("viewer", tree.north))
    directory = harness.identity.directory
    deleted = accounts_ev.NodeDeleted(node_id=tree.north, customer_id=CUSTOMER, actor_id=sales_manager.user_id)
    async with harness.db.transaction() as session:
        await directory.node_events()(
            session, Event(new_id(), "simfleet.accounts.node.deleted", deleted.SerializeToString(), {}, CUSTOMER, 1)
        )
    # The removal is in the action history, by whoever deleted the node.
    (recorded,) = [
        audit_ev.AuditRecorded.FromString(p) for p in await harness.outbox("simfleet.identity.audit.recorded")
    ]
    assert (recorded.action, recorded.actor_id) == ("users.grant.remove", sales_manager.user_id)
    assert [o.kind for o in recorded.objects] == ["user", "grant"] and recorded.objects[0].id == orphan.id

    # Without a grant the user hangs at the company node: its managers see, disable and re-grant them.
    with pytest.raises(NotFound):
        await directory.get(sales_manager, orphan.id)
    assert (await directory.get(company_manager, orphan.id)).id == orphan.id
    listed, _ = await directory.find(company_manager, page_size=1000)
    assert orphan.id in {u.id for u in listed}
    below, _ = await directory.find(company_manager, node_id=tree.sales, page_size=1000)
    assert orphan.id not in {u.id for u in below}
    disabled = await directory.set_status(company_manager, user_id=orphan.id, active=False)
    assert disabled.status == "disabled"
    await directory.add_grant(company_manager, user_id=orphan.id, role="viewer", node_id=tree.finance)


@pytest.mark.parametrize("text", ["Mine\u202e", "Mi\u0000ne", "\u2067Mine\u2069", "Mine\u200e", "Mi\x1bne", "Mi\x9bne"])
async def test_names_and_descriptions_with_control_or_bidi_characters_are_refused(
    harness: Harness, tree: Tree, text: str
) -> None:
    roles = harness.identity_roles
    directory = harness.identity.directory
    _, manager = await person(harness, "+79990000151", ("profile_manager", tree.company))
    before = {r.role.id for r in await roles.all_roles(manager)}
    for name, description, field in ((text, "", "name"), ("Mine", f"Reads {text}", "description")):
        with pytest.raises(InvalidArgument) as refused:
            await roles.create(manager, name=name, description=description, permissions=["lines:read"])
        assert field in refused.value.field_violations
    assert {r.role.id for r in await roles.all_roles(manager)} == before
    role = await roles.create(manager, name="Reader", description="Reads lines", permissions=["lines:read"])
    with pytest.raises(InvalidArgument) as refused:
        await roles.update(manager, role_id=role.role.id, name=text, description="", permissions=["lines:read"])
    assert "name" in refused.value.field_violations
    with pytest.raises(InvalidArgument) as refused:
        await directory.invite(
            manager, phone="+79990000152", email="n@demo.example", display_name=text, specs=[("viewer", tree.sales)]
        )
    assert list(refused.value.field_violations) == ["display_name"]
    users, _ = await directory.find(manager)
    assert "+79990000152" not in {u.phone for u in users}


async def test_every_command_writes_its_audit_event_in_the_transaction_of_its_change(
    harness: Harness, tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager_user, manager = await person(harness, "+79990000401", ("profile_manager", tree.company))
    directory, roles = harness.identity.directory, harness.identity_roles
    user, _ = await directory.invite(
        manager,
        phone="+79990000402",
        email="new402@demo.example",
        display_name="New Colleague",
        specs=[("viewer", tree.sales)],
    )
    added = await directory.add_grant(manager, user_id=user.id, role="viewer", node_id=tree.north)
    await directory.remove_grant(manager, user_id=user.id, grant_id=added.record.id)
    await directory.set_status(manager, user_id=user.id, active=False)
    await directory.set_status(manager, user_id=user.id, active=True)
    role = await roles.create(manager, name="Line readers", description="", permissions=["lines:read"])
    await roles.update(manager, role_id=role.role.id, name="Readers", description="", permissions=["lines:read"])
    await roles.delete(manager, role_id=role.role.id)
    session = await harness.identity.sign_in.password(phone="+79990000401", password=PASSWORD, call=CALL)
    await harness.identity.users.change_password(
        user_id=manager_user.id,
        session_id=session.session_id,
        current_password=PASSWORD,
        new_password="New-passw0rd-1",
    )
    # Written with each change, not after the answer by the interceptor: a crash in between loses neither.
    events = [audit_ev.AuditRecorded.FromString(p) for p in await harness.outbox("simfleet.identity.audit.recorded")]
    assert [(e.action, e.actor_id, e.customer_id, e.result) for e in events] == [
        (action, manager.user_id, CUSTOMER, "succeeded")
        for action in (
            "users.invite",
            "users.grant.add",
            "users.grant.remove",
            "users.disable",
            "users.enable",
            "roles.create",
            "roles.update",
            "roles.delete",
            "profile.password.change",
        )
    ]
    assert (events[0].objects[0].kind, events[0].objects[0].id) == ("user", user.id)
    assert [(o.kind, o.id, o.node_id) for o in events[1].objects] == [
        ("user", user.id, ""),
        ("grant", added.record.id, tree.north),
    ]

    # An event that cannot be written takes the change with it.
    audit = harness.identity.runtime.audit
    assert audit is not None

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the outbox is not writable")

    monkeypatch.setattr(audit, "add", broken)
    with pytest.raises(RuntimeError):
        await directory.set_status(manager, user_id=user.id, active=False)
    assert (await directory.get(manager, user.id)).status == "active"


def test_every_command_is_declared_to_write_its_success_in_its_own_transaction() -> None:
    from identity.audit_commands import COMMANDS

    assert [method for method, command in COMMANDS.items() if not command.in_transaction] == []
