"""A stand-in for identity, netsim or the gateway that speaks only what the launcher checks.

Run as ``python fake_service.py <service>``. It reads the same environment the
real service reads (``<SERVICE>_GRPC_PORT``, ``<SERVICE>_HTTP_PORT``...), records
that environment and its pid in ``<cwd>/<service>.env.json``, serves the gRPC
health service (SERVING) and, for netsim and the gateway, an HTTP server that
answers 200. identity also serves IdentityAdminService.CreateUser, checking the
operator key and remembering phones in ``<cwd>/fake-users.json`` (so a second
run answers ALREADY_EXISTS).

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

from simfleet.identity.v1 import admin_pb2, admin_pb2_grpc, common_pb2

USERS = Path("fake-users.json")


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


class Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_args: Any) -> None:
        return


def main(service: str) -> None:
    prefix = service.upper() + "_"
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
    if service != "gateway":
        server.add_insecure_port(f"127.0.0.1:{os.environ[prefix + 'GRPC_PORT']}")
        server.start()
    if service != "identity":
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
