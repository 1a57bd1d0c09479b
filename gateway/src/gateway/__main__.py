"""``python -m gateway``: serve the API until SIGTERM or Ctrl-C."""

from gateway.main import run

run()
