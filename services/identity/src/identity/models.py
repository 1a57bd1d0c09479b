"""identity's whole schema: the domain tables, the bus tables and the hierarchy's projection, on one metadata.

Alembic's ``env.py`` and the composition root import this module; it imports
every domain's models so that nothing is left out of ``metadata``.
"""

from __future__ import annotations

from identity.db import BUS, NODE_PATHS, Base
from identity.grants.models import CustomRole, GrantRecord
from identity.otp.models import OtpChallenge
from identity.sessions.models import RefreshToken, Session, SigningKey
from identity.signins.models import SignInAttempt, SignInThrottle
from identity.users.models import User

metadata = Base.metadata

__all__ = [
    "BUS",
    "NODE_PATHS",
    "Base",
    "CustomRole",
    "GrantRecord",
    "OtpChallenge",
    "RefreshToken",
    "Session",
    "SignInAttempt",
    "SignInThrottle",
    "SigningKey",
    "User",
    "metadata",
]
