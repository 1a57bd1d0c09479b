"""The one place that mounts every router."""

from __future__ import annotations

from fastapi import FastAPI

from gateway.admin.router import router as admin_router
from gateway.audit.router import router as audit_router
from gateway.auth.router import router as auth_router
from gateway.billing.availability_router import router as availability_router
from gateway.billing.finances_router import router as finances_router
from gateway.billing.limits_router import router as limits_router
from gateway.billing.packages_router import router as packages_router
from gateway.billing.payments_router import router as payments_router
from gateway.billing.promised_router import router as promised_router
from gateway.billing.router import router as billing_router
from gateway.billing.usage_router import router as usage_router
from gateway.health.router import router as health_router
from gateway.lines.groups import router as line_groups_router
from gateway.lines.router import router as lines_router
from gateway.lines.router import stock_router
from gateway.lines.saved_filters import router as saved_filters_router
from gateway.me.router import router as me_router
from gateway.nodes.router import router as nodes_router
from gateway.notices.router import router as notices_router
from gateway.operations.router import router as operations_router
from gateway.operations.router import sim_orders_router
from gateway.roles.router import router as roles_router
from gateway.tickets.forms_router import router as forms_router
from gateway.tickets.router import router as tickets_router
from gateway.tickets.support_router import router as support_desk_router
from gateway.users.router import router as users_router


def register_routers(app: FastAPI) -> None:
    app.include_router(health_router)
    app.include_router(auth_router)
    app.include_router(me_router)
    app.include_router(nodes_router)
    app.include_router(users_router)
    app.include_router(roles_router)
    app.include_router(audit_router)
    app.include_router(admin_router)
    app.include_router(availability_router)  # before the lines': /v1/lines/availability is no line's number
    app.include_router(saved_filters_router)  # before the lines': /v1/lines/saved-filters is no line's number
    app.include_router(line_groups_router)  # and /v1/lines/groups neither
    app.include_router(lines_router)
    app.include_router(stock_router)
    app.include_router(operations_router)
    app.include_router(sim_orders_router)
    app.include_router(billing_router)
    app.include_router(usage_router)
    app.include_router(payments_router)
    app.include_router(promised_router)
    app.include_router(limits_router)
    app.include_router(packages_router)
    app.include_router(finances_router)
    app.include_router(tickets_router)
    app.include_router(support_desk_router)
    app.include_router(forms_router)
    app.include_router(notices_router)
