"""The NATS streams and subjects of SIMfleet: the bus's half of the contract, beside the stubs of its payloads.

Each service owns one class here, its stream names and the subjects it
publishes on (docs/architecture.md § Streams and subjects lists them with their
payloads). The owner declares its streams from these names; every producer and
consumer, the owner or another service, imports the subject from here instead
of typing it, so a subject is spelled once.
"""

from __future__ import annotations

from typing import Final


def audit_recorded(service: str) -> str:
    """Where ``service`` records the commands it answered (``events.v1.AuditRecorded``), for accounts' history."""
    return f"simfleet.{service}.audit.recorded"


class IdentitySubjects:
    STREAM: Final = "IDENTITY"
    STREAM_SUBJECTS: Final = ("simfleet.identity.>",)

    USER_CREATED: Final = "simfleet.identity.user.created"
    USER_DISABLED: Final = "simfleet.identity.user.disabled"
    USER_ENABLED: Final = "simfleet.identity.user.enabled"
    SIGN_IN_RECORDED: Final = "simfleet.identity.sign_in.recorded"
    PASSWORD_CHANGED: Final = "simfleet.identity.password.changed"
    SESSION_REVOKED: Final = "simfleet.identity.session.revoked"
    EMAIL_REQUESTED: Final = "simfleet.identity.email.requested"
    GRANT_ADDED: Final = "simfleet.identity.grant.added"
    GRANT_REMOVED: Final = "simfleet.identity.grant.removed"
    GRANTS_REVISED: Final = "simfleet.identity.user.grants_revised"


class AccountsSubjects:
    STREAM: Final = "ACCOUNTS"
    STREAM_SUBJECTS: Final = ("simfleet.accounts.>",)

    CUSTOMER_ONBOARDED: Final = "simfleet.accounts.customer.onboarded"
    NODE_EVENTS: Final = "simfleet.accounts.node.>"
    """Every change to the hierarchy's nodes: what a projection of the tree consumes."""
    NODE_CREATED: Final = "simfleet.accounts.node.created"
    NODE_RENAMED: Final = "simfleet.accounts.node.renamed"
    NODE_MOVED: Final = "simfleet.accounts.node.moved"
    NODE_DELETED: Final = "simfleet.accounts.node.deleted"


class InventorySubjects:
    STREAM: Final = "INVENTORY"
    STREAM_SUBJECTS: Final = ("simfleet.inventory.>",)

    OPERATION_ACCEPTED: Final = "simfleet.inventory.operation.accepted"
    OPERATION_STARTED: Final = "simfleet.inventory.operation.started"
    OPERATION_FINISHED: Final = "simfleet.inventory.operation.finished"
    LINES_CHANGED: Final = "simfleet.inventory.lines.changed"
    NODE_FIGURES: Final = "simfleet.inventory.node.figures"


class BillingSubjects:
    STREAM: Final = "BILLING"
    STREAM_SUBJECTS: Final = ("simfleet.billing.>",)

    ACCOUNT_EXHAUSTED: Final = "simfleet.billing.account.exhausted"
    ACCOUNT_REPLENISHED: Final = "simfleet.billing.account.replenished"
    LINES_HELD: Final = "simfleet.billing.account.lines.held"
    """Lines to be blocked for another reason than their account (a spending limit), as AccountFundsChanged."""
    LINES_RELEASED: Final = "simfleet.billing.account.lines.released"
    ACCOUNT_FUNDS: Final = "simfleet.billing.account.>"
    """All four: what inventory's financial blocks consume."""
    LIMIT_REACHED: Final = "simfleet.billing.limit.reached"
    """A spending limit reached in a period (SpendingLimitReached), once per limit and period."""
    PAYMENT_RECEIVED: Final = "simfleet.billing.payment.received"
    """A payment credited to a personal account (PaymentReceived), once per payment, with its credit."""


class TicketingSubjects:
    STREAM: Final = "TICKETING"
    STREAM_SUBJECTS: Final = ("simfleet.ticketing.>",)

    TICKET_CREATED: Final = "simfleet.ticketing.ticket.created"
    TICKET_STATE_CHANGED: Final = "simfleet.ticketing.ticket.state_changed"
    TICKET_NOTE_ADDED: Final = "simfleet.ticketing.ticket.note_added"
    TICKET_EVENTS: Final = "simfleet.ticketing.ticket.>"
    """All three: what notices about tickets consume."""


class NotificationsSubjects:
    STREAM: Final = "NOTIFICATIONS"
    STREAM_SUBJECTS: Final = ("simfleet.notifications.>",)

    NOTICE_SENT: Final = "simfleet.notifications.notice.sent"
    """A notice handed to the SMSC or the mail relay (NoticeSent)."""


class NetsimSubjects:
    COMMAND_STREAM: Final = "NETSIM_CMD"
    """Commands to the simulated network, a work queue: each is taken once."""
    COMMAND_SUBJECTS: Final = ("simfleet.netsim.cmd.>",)
    EVENT_STREAM: Final = "NETSIM"
    """What the simulated network reports."""
    EVENT_SUBJECTS: Final = ("simfleet.netsim.sms.>", "simfleet.netsim.hlr.>")

    SUBMIT_SMS: Final = "simfleet.netsim.cmd.sms.submit"
    SMS_DELIVERED: Final = "simfleet.netsim.sms.delivered"
    """Receipts of SMS submitted without an ``origin``; see :meth:`sms_delivered_to`."""
    PROVISION: Final = "simfleet.netsim.cmd.hlr.provision"
    PROVISIONING_RESULT: Final = "simfleet.netsim.hlr.result"
    USAGE_STREAM: Final = "NETSIM_USAGE"
    """The network's usage records (mediation), kept apart for their volume and retention."""
    USAGE_SUBJECTS: Final = ("simfleet.netsim.usage.>",)
    USAGE_RECORDED: Final = "simfleet.netsim.usage.recorded"

    @staticmethod
    def sms_delivered_to(origin: str) -> str:
        """Receipts of the SMS submitted with ``origin``: only the service that named it reads them."""
        return f"{NetsimSubjects.SMS_DELIVERED}.{origin}" if origin else NetsimSubjects.SMS_DELIVERED


__all__ = [
    "AccountsSubjects",
    "BillingSubjects",
    "IdentitySubjects",
    "InventorySubjects",
    "NetsimSubjects",
    "NotificationsSubjects",
    "TicketingSubjects",
    "audit_recorded",
]
