"""identity's stream and subjects."""

from __future__ import annotations

from simfleet_runtime.bus import StreamSpec

STREAM = "IDENTITY"
USER_CREATED = "simfleet.identity.user.created"
SIGN_IN_RECORDED = "simfleet.identity.sign_in.recorded"
PASSWORD_CHANGED = "simfleet.identity.password.changed"
SESSION_REVOKED = "simfleet.identity.session.revoked"
EMAIL_REQUESTED = "simfleet.identity.email.requested"
USER_DISABLED = "simfleet.identity.user.disabled"
USER_ENABLED = "simfleet.identity.user.enabled"
GRANT_ADDED = "simfleet.identity.grant.added"
GRANT_REMOVED = "simfleet.identity.grant.removed"
GRANTS_REVISED = "simfleet.identity.user.grants_revised"
SMS_SUBMIT = "simfleet.netsim.cmd.sms.submit"


def streams(replicas: int = 1) -> list[StreamSpec]:
    return [
        StreamSpec(
            name=STREAM,
            subjects=["simfleet.identity.>"],
            replicas=replicas,
            description="identity's facts: users, sign-ins, passwords, sessions; its mail work items",
        )
    ]
