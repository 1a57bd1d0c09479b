"""notifications' whole schema: the domain tables, the bus tables and the node paths, on one metadata.

Alembic's ``env.py`` and the composition root import this module; it imports
every domain's models so that nothing is left out of ``metadata``.
"""

from __future__ import annotations

from notifications.db import BUS, NODE_PATHS, Base
from notifications.notices.models import Notice, NoticeEvent
from notifications.preferences.models import Preference, User

metadata = Base.metadata

__all__ = ["BUS", "NODE_PATHS", "Base", "Notice", "NoticeEvent", "Preference", "User", "metadata"]
