"""notifications: the sign-in notice takes SMS (ID-7 moves here from identity); saved preferences keep it on

Until now identity sent every user the "you signed in" SMS itself and the
``sign_in`` kind offered email only, so a user who saved preferences never
chose about that SMS. Their saved ``sign_in`` gets ``sms`` added: they go on
getting the SMS they had, and may turn it off now. Users who saved nothing
get the catalogue's default (SMS) anyway.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 21:30:00.000000

"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGN_IN = "sign_in"
SMS = "sms"

preferences = sa.table("preferences", sa.column("user_id", sa.String), sa.column("choices", sa.JSON))


def _rewrite(change: Any) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(preferences.c.user_id, preferences.c.choices)).all()
    for user_id, choices in rows:
        if not isinstance(choices, dict):
            continue
        channels = choices.get(SIGN_IN)
        updated = change(list(channels) if isinstance(channels, list) else [])
        if updated != channels:
            bind.execute(
                preferences.update()
                .where(preferences.c.user_id == user_id)
                .values(choices={**choices, SIGN_IN: updated})
            )


def upgrade() -> None:
    """Saved preferences: the sign-in notice by SMS as well as whatever they chose."""
    _rewrite(lambda channels: channels if SMS in channels else [SMS, *channels])


def downgrade() -> None:
    """The sign-in notice by email only again (identity sends the SMS)."""
    _rewrite(lambda channels: [c for c in channels if c != SMS])
