"""All of identity's tables (for migrations and tests)."""

from __future__ import annotations

from sqlalchemy import MetaData


def metadata() -> MetaData:
    from identity.grants import models as _grants
    from identity.models import Base
    from identity.otp import models as _otp
    from identity.sessions import models as _sessions
    from identity.signins import models as _signins
    from identity.users import models as _users

    del _grants, _otp, _sessions, _signins, _users
    return Base.metadata
