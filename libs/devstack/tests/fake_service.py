"""A stand-in for any service of the platform that speaks only what the launcher checks.

Run as ``python fake_service.py <service>``. It reads the same environment the
real service reads (``<SERVICE>_GRPC_PORT``, ``<SERVICE>_HTTP_PORT``...), records
that environment and its pid in ``<cwd>/<service>.env.json``, serves the gRPC
health service (SERVING) and, for netsim and the gateway, an HTTP server that
answers 200. identity also serves IdentityAdminService.CreateUser, checking the
operator key and remembering phones in ``<cwd>/fake-users.json`` (so a second
run answers ALREADY_EXISTS), and password sign-in and sign-out; accounts serves
what the demo seed calls: ListCustomers and OnboardCustomer (remembered in
``<cwd>/fake-customers.json``), CreateNode and ListNodes; inventory serves
ImportLines (numbers remembered in ``<cwd>/fake-lines.json``, so a second run
adds none) and ImportStock; netsim answers the HLR's GetSubscriber for any number; billing opens ledger
accounts and posts the demo's deposits (entry ids remembered in ``<cwd>/fake-entries.json``, so a second run
replays them).

Knobs for tests: FAKE_IGNORE_SIGTERM=1, FAKE_EXIT_AFTER=<seconds> (exits with 3),
FAKE_NOT_SERVING=1 (health says NOT_SERVING forever).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from simfleet.accounts.v1 import admin_pb2 as accounts_admin
from simfleet.accounts.v1 import admin_pb2_grpc as accounts_admin_grpc
from simfleet.accounts.v1 import hierarchy_pb2, hierarchy_pb2_grpc
from simfleet.billing.v1 import admin_pb2 as billing_admin
from simfleet.billing.v1 import admin_pb2_grpc as billing_admin_grpc
from simfleet.billing.v1 import ledger_pb2 as billing_ledger
from simfleet.identity.v1 import admin_pb2, admin_pb2_grpc, auth_pb2, auth_pb2_grpc, common_pb2
from simfleet.inventory.v1 import admin_pb2 as inventory_admin
from simfleet.inventory.v1 import admin_pb2_grpc as inventory_admin_grpc
from simfleet.netsim.v1 import hlr_pb2, hlr_pb2_grpc

USERS = Path("fake-users.json")
CUSTOMERS = Path("fake-customers.json")
LINES = Path("fake-lines.json")
ENTRIES = Path("fake-entries.json")


class Admin(admin_pb2_grpc.IdentityAdminServiceServicer):
    def CreateUser(self, request: Any, context: Any) -> Any:
        key = dict(context.invocation_metadata()).get("simfleet-operator-key")
        if key != os.environ["IDENTITY_OPERATOR_KEY"]:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "operator key")
        phones = json.loads(USERS.read_text()) if USERS.exists() else []
        if request.phone in phones:
            context.abort(grpc.StatusCode.ALREADY_EXISTS, "phone taken")
        phones.append(request.phone)
        USERS.write_text(json.dumps(phones))
        return admin_pb2.CreateUserResponse(user=common_pb2.User(phone=request.phone))

    def CreateOperator(self, request: Any, context: Any) -> Any:
        return admin_pb2.CreateOperatorResponse(user=common_pb2.User(phone=request.phone))


class Auth(auth_pb2_grpc.AuthServiceServicer):
    def SignInWithPassword(self, request: Any, context: Any) -> Any:
        tokens = common_pb2.SessionTokens(access_token="fake-access", refresh_token="fake-refresh")
        return auth_pb2.SignInWithPasswordResponse(tokens=tokens)

    def SignOut(self, request: Any, context: Any) -> Any:
        return auth_pb2.SignOutResponse()


class AccountsAdmin(accounts_admin_grpc.AccountsAdminServiceServicer):
    def ListCustomers(self, request: Any, context: Any) -> Any:
        taxes = json.loads(CUSTOMERS.read_text()) if CUSTOMERS.exists() else []
        return accounts_admin.ListCustomersResponse(
            customers=[
                accounts_admin.Customer(legal_entity=accounts_admin.LegalEntity(tax_number=t))
                for t in taxes
                if request.query in t
            ]
        )

    def OnboardCustomer(self, request: Any, context: Any) -> Any:
        key = dict(context.invocation_metadata()).get("simfleet-operator-key")
        if key != os.environ["ACCOUNTS_OPERATOR_KEY"]:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "operator key")
        taxes = json.loads(CUSTOMERS.read_text()) if CUSTOMERS.exists() else []
        CUSTOMERS.write_text(json.dumps([*taxes, request.legal_entity.tax_number]))
        customer = accounts_admin.Customer(id="fake-customer", root_node_id="fake-root")
        return accounts_admin.OnboardCustomerResponse(customer=customer)


class Hierarchy(hierarchy_pb2_grpc.HierarchyServiceServicer):
    def CreateNode(self, request: Any, context: Any) -> Any:
        return hierarchy_pb2.CreateNodeResponse(node=hierarchy_pb2.Node(id=f"node-{request.name}"))

    def ListNodes(self, request: Any, context: Any) -> Any:
        accounts = [
            hierarchy_pb2.Node(id=f"fake-account-{n}", customer_id="fake-customer", account_number=f"41{n:08d}")
            for n in (1, 2)
        ]
        return hierarchy_pb2.ListNodesResponse(nodes=accounts)


class InventoryAdmin(inventory_admin_grpc.InventoryAdminServiceServicer):
    def _check(self, context: Any) -> None:
        if dict(context.invocation_metadata()).get("simfleet-operator-key") != os.environ["INVENTORY_OPERATOR_KEY"]:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "operator key")

    def ImportLines(self, request: Any, context: Any) -> Any:
        self._check(context)
        known = set(json.loads(LINES.read_text())) if LINES.exists() else set()
        fresh = [line.msisdn for line in request.lines if line.msisdn not in known]
        LINES.write_text(json.dumps(sorted(known | set(fresh))))
        return inventory_admin.ImportLinesResponse(lines_added=len(fresh))

    def ImportStock(self, request: Any, context: Any) -> Any:
        self._check(context)
        return inventory_admin.ImportStockResponse(sims_added=len(request.sims), numbers_added=len(request.msisdns))


class BillingAdmin(billing_admin_grpc.BillingAdminServiceServicer):
    def _check(self, context: Any) -> None:
        if dict(context.invocation_metadata()).get("simfleet-operator-key") != os.environ["BILLING_OPERATOR_KEY"]:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "operator key")

    def OpenAccount(self, request: Any, context: Any) -> Any:
        self._check(context)
        account = billing_ledger.LedgerAccount(
            id=f"ledger-{request.personal_account_id or request.kind}", currency=request.currency
        )
        return billing_admin.OpenAccountResponse(account=account)

    def PostEntry(self, request: Any, context: Any) -> Any:
        self._check(context)
        known = set(json.loads(ENTRIES.read_text())) if ENTRIES.exists() else set()
        ENTRIES.write_text(json.dumps(sorted(known | {request.entry_id})))
        return billing_admin.PostEntryResponse(replayed=request.entry_id in known)


class Hlr(hlr_pb2_grpc.HlrServiceServicer):
    def GetSubscriber(self, request: Any, context: Any) -> Any:
        return hlr_pb2.GetSubscriberResponse(subscriber=hlr_pb2.Subscriber(msisdn=request.msisdn))


class Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_args: Any) -> None:
        return


def main(service: str) -> None:
    # billing's rater is billing's package with BILLING_* settings (another role, other ports).
    prefix = ("billing" if service == "billing-rater" else service).upper() + "_"
    Path(f"{service}.env.json").write_text(json.dumps({"pid": os.getpid(), "env": dict(os.environ)}))
    if os.environ.get("FAKE_IGNORE_SIGTERM"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    server = grpc.server(futures.ThreadPoolExecutor(4))
    servicer = health.HealthServicer()
    status = health_pb2.HealthCheckResponse.NOT_SERVING if os.environ.get("FAKE_NOT_SERVING") else 1
    servicer.set("", status)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    if service == "identity":
        admin_pb2_grpc.add_IdentityAdminServiceServicer_to_server(Admin(), server)
        auth_pb2_grpc.add_AuthServiceServicer_to_server(Auth(), server)
    if service == "accounts":
        accounts_admin_grpc.add_AccountsAdminServiceServicer_to_server(AccountsAdmin(), server)
        hierarchy_pb2_grpc.add_HierarchyServiceServicer_to_server(Hierarchy(), server)
    if service == "inventory":
        inventory_admin_grpc.add_InventoryAdminServiceServicer_to_server(InventoryAdmin(), server)
    if service == "netsim":
        hlr_pb2_grpc.add_HlrServiceServicer_to_server(Hlr(), server)
    if service == "billing":
        billing_admin_grpc.add_BillingAdminServiceServicer_to_server(BillingAdmin(), server)
    if service != "gateway":
        server.add_insecure_port(f"127.0.0.1:{os.environ[prefix + 'GRPC_PORT']}")
        server.start()
    if service not in ("identity", "accounts", "inventory", "billing", "billing-rater", "ticketing", "notifications"):
        http = ThreadingHTTPServer(("127.0.0.1", int(os.environ[prefix + "HTTP_PORT"])), Ok)
        threading.Thread(target=http.serve_forever, daemon=True).start()
    print(f"fake {service} serving", flush=True)
    exit_after = float(os.environ.get("FAKE_EXIT_AFTER", "0"))
    started = time.monotonic()
    while True:
        time.sleep(0.05)
        if exit_after and time.monotonic() - started > exit_after:
            print(f"fake {service} exits on purpose", flush=True)
            sys.exit(3)


if __name__ == "__main__":
    main(sys.argv[1])
