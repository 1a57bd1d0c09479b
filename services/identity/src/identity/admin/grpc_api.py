"""simfleet.identity.v1.IdentityAdminService: operator staff, by operator key.

Operator users with their own roles arrive with the multi-user-account work;
until then a back-office caller proves itself with the shared operator key
(``IDENTITY_OPERATOR_KEY``), compared in constant time. An empty key refuses
every call.
"""

from __future__ import annotations

from typing import Any

from identity import convert
from identity.audit_commands import USER_CREATE
from identity.sessions.keys import SigningKeyStore
from identity.users.service import UserService
from simfleet.identity.v1 import admin_pb2 as pb
from simfleet.identity.v1 import admin_pb2_grpc
from simfleet_runtime.auth import require_operator_key

SERVICE_NAME = "simfleet.identity.v1.IdentityAdminService"


class AdminApi(admin_pb2_grpc.IdentityAdminServiceServicer):
    def __init__(self, *, users: UserService, keys: SigningKeyStore, operator_key: str) -> None:
        self._users = users
        self._keys = keys
        self._operator_key = operator_key

    def _require_operator(self) -> None:
        require_operator_key(self._operator_key)

    async def CreateUser(self, request: pb.CreateUserRequest, context: Any) -> pb.CreateUserResponse:
        self._require_operator()
        user = await self._users.create(
            customer_id=request.customer_id,
            phone=request.phone,
            email=request.email,
            display_name=request.display_name,
            password=request.password,
            request_id=request.request_id,
            grant_specs=[(g.role, g.node_id) for g in request.grants],
            invite=request.invite,
            audited=(USER_CREATE, None),  # the operator, under the customer: with the user, in its transaction
        )
        return pb.CreateUserResponse(user=convert.user(user))

    async def CreateOperator(self, request: pb.CreateOperatorRequest, context: Any) -> pb.CreateOperatorResponse:
        self._require_operator()
        user = await self._users.create(
            customer_id="",
            phone=request.phone,
            email=request.email,
            display_name=request.display_name,
            password=request.password,
            request_id=request.request_id,
            operator_role=request.role,
        )
        return pb.CreateOperatorResponse(user=convert.user(user))

    async def RotateSigningKey(self, request: pb.RotateSigningKeyRequest, context: Any) -> pb.RotateSigningKeyResponse:
        self._require_operator()
        return pb.RotateSigningKeyResponse(kid=await self._keys.rotate())

    async def GetUserAccess(self, request: pb.GetUserAccessRequest, context: Any) -> pb.GetUserAccessResponse:
        self._require_operator()
        user, held = await self._users.access_of(request.user_id, customer_id=request.customer_id)
        return pb.GetUserAccessResponse(
            active=user.active,
            grants=[pb.GrantedAccess(node_id=g.node_id, role=g.role, permissions=sorted(g.permissions)) for g in held],
            grants_version=user.grants_version,
        )
