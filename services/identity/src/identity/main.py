"""The composition root: settings → database, bus, use cases, gRPC servicers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from identity.admin.grpc_api import SERVICE_NAME as ADMIN_SERVICE
from identity.admin.grpc_api import AdminApi
from identity.audit_commands import COMMANDS
from identity.auth.grpc_api import SERVICE_NAME as AUTH_SERVICE
from identity.auth.grpc_api import AuthApi
from identity.auth.service import SignInService
from identity.directory.grpc_api import ROLES_SERVICE, USERS_SERVICE, CustomerUserApi, RoleApi
from identity.directory.service import Directory
from identity.grants.catalogue import RoleCatalogue
from identity.models import BUS, NODE_PATHS
from identity.notifications.mailer import Mailer
from identity.notifications.service import Notifier
from identity.otp.service import OtpPolicy, OtpService
from identity.profile.grpc_api import SERVICE_NAME as PROFILE_SERVICE
from identity.profile.grpc_api import ProfileApi
from identity.sessions.keys import SigningKeyStore
from identity.sessions.service import SessionPolicy, SessionService
from identity.settings import IdentitySettings
from identity.signins.service import SignInHistory
from identity.signins.throttle import SignInThrottles, ThrottlePolicy
from identity.streams import streams
from identity.users.passwords import PasswordHashing, PasswordPolicy
from identity.users.service import UserService
from simfleet.identity.v1 import admin_pb2_grpc, auth_pb2_grpc, profile_pb2_grpc, users_pb2_grpc
from simfleet_runtime import nodepaths
from simfleet_runtime.audit import AuditTrail
from simfleet_runtime.auth import JwksCache, TokenVerifier
from simfleet_runtime.service import ServiceRuntime
from simfleet_subjects import IdentitySubjects

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True)
class Identity:
    """Everything the service is made of, wired; tests build it the same way."""

    runtime: ServiceRuntime
    keys: SigningKeyStore
    users: UserService
    sessions: SessionService
    sign_in: SignInService
    history: SignInHistory
    mailer: Mailer
    directory: Directory
    paths: nodepaths.ProjectedNodePaths


def build(settings: IdentitySettings) -> Identity:
    runtime = ServiceRuntime(settings, tables=BUS, migrations_dir=MIGRATIONS, streams=streams())
    db, clock, outbox = runtime.db, runtime.clock, runtime.outbox
    access_ttl = timedelta(seconds=settings.access_token_ttl_seconds)
    keys = SigningKeyStore(
        db=db,
        clock=clock,
        passphrase=settings.signing_key_passphrase.get_secret_value().encode(),
        max_age=timedelta(days=settings.signing_key_max_age_days),
        publish_after_retirement=access_ttl + timedelta(minutes=5),
    )
    verifier = TokenVerifier(
        keys=JwksCache(keys.jwks, refresh_interval=1.0),
        clock=clock,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    sessions = SessionService(
        db=db,
        clock=clock,
        keys=keys,
        verifier=verifier,
        outbox=outbox,
        policy=SessionPolicy(
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            access_ttl=access_ttl,
            idle_timeout=timedelta(seconds=settings.session_idle_timeout_seconds),
            absolute_timeout=timedelta(seconds=settings.session_absolute_timeout_seconds),
            reuse_grace=timedelta(seconds=settings.refresh_reuse_grace_seconds),
            successor_key=settings.refresh_token_key.get_secret_value().encode(),
        ),
    )
    hashing = PasswordHashing(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )
    notifier = Notifier(outbox=outbox, clock=clock, sms_sender=settings.sms_sender)
    audit = AuditTrail(db=db, outbox=outbox, clock=clock, service="identity", commands=COMMANDS)
    runtime.audit = audit
    users = UserService(
        db=db,
        clock=clock,
        outbox=outbox,
        hashing=hashing,
        policy=PasswordPolicy(min_length=settings.password_min_length),
        sessions=sessions,
        notifier=notifier,
        invitation_text=settings.invitation_text,
        audit=audit,
    )
    otp = OtpService(
        clock=clock,
        notifier=notifier,
        pepper=settings.otp_pepper.get_secret_value().encode(),
        policy=OtpPolicy(
            ttl=timedelta(seconds=settings.otp_ttl_seconds),
            max_attempts=settings.otp_max_attempts,
            lockout=timedelta(seconds=settings.otp_lockout_seconds),
            send_window=timedelta(seconds=settings.otp_send_window_seconds),
            send_limit_per_phone=settings.otp_send_limit_per_phone,
            send_limit_per_client=settings.otp_send_limit_per_client,
            send_limit_per_phone_all_clients=settings.otp_send_limit_per_phone_all_clients,
        ),
    )
    history = SignInHistory(db=db, clock=clock, outbox=outbox)
    sign_in = SignInService(
        db=db,
        clock=clock,
        users=users,
        otp=otp,
        sessions=sessions,
        history=history,
        notifier=notifier,
        hashing=hashing,
        sign_in_sms_by_notifications=settings.sign_in_sms_by_notifications,
        throttles=SignInThrottles(
            clock=clock,
            policy=ThrottlePolicy(
                free_failures=settings.sign_in_free_failures_per_client,
                backoff_base=timedelta(seconds=settings.sign_in_backoff_base_seconds),
                backoff_cap=timedelta(seconds=settings.sign_in_backoff_cap_seconds),
                client_memory=timedelta(seconds=settings.sign_in_client_memory_seconds),
                account_limit=settings.sign_in_account_failure_limit,
            ),
        ),
        known_client_window=timedelta(days=settings.sign_in_known_client_days),
    )
    mailer = Mailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value(),
        starttls=settings.smtp_starttls,
        timeout=settings.smtp_timeout_seconds,
    )

    runtime.add_servicer(
        auth_pb2_grpc.add_AuthServiceServicer_to_server,
        AuthApi(sign_in=sign_in, sessions=sessions, keys=keys),
        AUTH_SERVICE,
    )
    runtime.add_servicer(
        profile_pb2_grpc.add_ProfileServiceServicer_to_server,
        ProfileApi(sessions=sessions, users=users, history=history),
        PROFILE_SERVICE,
    )
    runtime.add_servicer(
        admin_pb2_grpc.add_IdentityAdminServiceServicer_to_server,
        AdminApi(users=users, keys=keys, operator_key=settings.operator_key.get_secret_value()),
        ADMIN_SERVICE,
    )
    paths = nodepaths.ProjectedNodePaths(db=db, table=NODE_PATHS, clock=clock)
    directory = Directory(db=db, clock=clock, outbox=outbox, users=users, sessions=sessions, paths=paths, audit=audit)
    runtime.add_servicer(
        users_pb2_grpc.add_CustomerUserServiceServicer_to_server,
        CustomerUserApi(sessions=sessions, directory=directory),
        USERS_SERVICE,
    )
    runtime.add_servicer(
        users_pb2_grpc.add_RoleServiceServicer_to_server,
        RoleApi(
            sessions=sessions,
            directory=directory,
            roles=RoleCatalogue(db=db, clock=clock, outbox=outbox, paths=paths, audit=audit),
        ),
        ROLES_SERVICE,
    )
    runtime.add_consumer(
        name="identity-node-paths",
        stream=nodepaths.STREAM,
        subject=nodepaths.SUBJECTS,
        handler=directory.node_events(),
    )
    runtime.add_consumer(
        name="identity-mailer",
        stream=IdentitySubjects.STREAM,
        subject=IdentitySubjects.EMAIL_REQUESTED,
        handler=mailer.handle,
        in_transaction=False,
    )
    runtime.add_task("signing-keys", keys.maintain)
    return Identity(runtime, keys, users, sessions, sign_in, history, mailer, directory, paths)


async def serve(settings: IdentitySettings) -> None:
    identity = build(settings)
    identity.runtime.setup_telemetry()
    await identity.runtime.run()


async def migrate(settings: IdentitySettings) -> None:
    identity = build(settings)
    await identity.runtime.migrate()
    await identity.runtime.db.dispose()
