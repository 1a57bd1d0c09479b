"""Users created through identity's back-office API: the demo profile manager and bench users.

Seeding is idempotent: a phone that is already registered (ALREADY_EXISTS) counts
as done, so running the launcher again on the same data changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from simfleet.identity.v1 import admin_pb2, admin_pb2_grpc
from simfleet_runtime.context import OPERATOR_KEY

DEMO_CUSTOMER_ID = "01M80FS1VH2MZKYX1PNS53P8M2"


@dataclass(frozen=True, slots=True)
class SeedUser:
    customer_id: str
    phone: str
    email: str
    display_name: str
    password: str = ""


DEMO_MANAGER = SeedUser(
    customer_id=DEMO_CUSTOMER_ID,
    phone="+79990000001",
    email="manager@demo.example",
    display_name="Demo Profile Manager",
    password="Demo-Passw0rd-2026",  # the published demo password of the local platform
)


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
    )
    try:
        stub.CreateUser(request, metadata=((OPERATOR_KEY, operator_key),), timeout=timeout, wait_for_ready=True)
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.ALREADY_EXISTS:
            return False
        raise
    return True
