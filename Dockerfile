# syntax=docker/dockerfile:1
# The image of every SIMfleet Python service: identity, accounts, inventory,
# netsim, billing, ticketing, notifications and the gateway. The build argument SERVICE names the one to build; the
# repository root is the build context:
#   docker build --build-arg SERVICE=identity -t simfleet/identity .
# What all images share is written once (the builder, the runtime); each service
# has a source stage (its own folder) and a final stage (its labels, listeners,
# ports and command), and only SERVICE's are built (BuildKit skips the others).
#
# The same base image, pinned by tag, in every stage: the virtual environment
# the builder makes points at /usr/local/bin/python3.11 and is copied as it is.
# No registry can be reached from where this file was written, so no digest
# could be looked up: pin one (FROM python:...@sha256:...) where images are
# built and pushed, and let the dependency bot move tag and digest together.
#
# Test helpers and the scale seeder (simfleet_runtime/testing.py,
# inventory/admin/scale.py) never reach an image: .dockerignore leaves them out
# of the build context, and no module that ships imports them
# (tests/contract/test_dockerfiles.py checks both).

ARG SERVICE


# --- Build: the service's wheels in a virtual environment --------------------------

FROM python:3.11.17-slim-bookworm AS build-base

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /build

# The pins: constraints.txt for every package the image ships, image-build.txt for
# the installer and the build backend of our own packages.
COPY constraints.txt requirements/image-build.txt ./
RUN python -m pip install --no-cache-dir --no-compile -r image-build.txt \
 && python -m venv --without-pip /opt/venv

COPY libs/protos/ libs/protos/
COPY libs/runtime/ libs/runtime/

# Each service's own package, copied to the same place.
FROM build-base AS identity-source
COPY services/identity/ service/

FROM build-base AS accounts-source
COPY services/accounts/ service/

FROM build-base AS inventory-source
COPY services/inventory/ service/

FROM build-base AS netsim-source
COPY services/netsim/ service/

FROM build-base AS billing-source
COPY services/billing/ service/

FROM build-base AS ticketing-source
COPY services/ticketing/ service/

FROM build-base AS notifications-source
COPY services/notifications/ service/

FROM build-base AS gateway-source
COPY gateway/ service/

FROM ${SERVICE}-source AS builder
ARG SERVICE

# Wheels only from the index (nothing is compiled here), our three packages built
# as wheels (not editable) into a virtual environment without pip. Then prove the
# result is whole: no broken requirement, the service imports, and a service
# with Alembic migrations has them inside the installed package.
RUN python -m pip --python /opt/venv/bin/python install --no-cache-dir \
        --constraint constraints.txt --build-constraint image-build.txt \
        --only-binary=:all: \
        ./libs/protos ./libs/runtime ./service \
 && python -m pip --python /opt/venv/bin/python check \
 && /opt/venv/bin/python -I -c "import ${SERVICE}.main" \
 && if [ -d "service/src/${SERVICE}/migrations" ]; then \
        /opt/venv/bin/python -I -c "import importlib.resources as r, sys; v = r.files(sys.argv[1]) / 'migrations' / 'versions'; assert any(p.name.endswith('.py') for p in v.iterdir()), v" "${SERVICE}"; \
    fi


# --- Run: what every image shares ----------------------------------------------------

FROM python:3.11.17-slim-bookworm AS runtime

ARG VERSION=0.1.0
ARG REVISION=unknown

LABEL org.opencontainers.image.vendor="SIMfleet" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11.17-slim-bookworm"

# The only changes to the base as root: a user to run as (uid/gid 10001, home
# /tmp, no shell) and no package installer left at run time.
RUN groupadd --system --gid 10001 simfleet \
 && useradd --system --uid 10001 --gid 10001 --home-dir /tmp --no-create-home \
        --shell /usr/sbin/nologin simfleet \
 && python -m pip uninstall --yes --no-cache-dir pip setuptools wheel \
 && rm -rf /root/.cache

# Owned by root and read-only for the service's user.
COPY --from=builder /opt/venv /opt/venv

# Read-only root file system: nothing is written at run time except under /tmp
# (an emptyDir in a pod). Bytecode was compiled in the builder; none is written.
ENV PATH=/opt/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/venv \
    HOME=/tmp \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

VOLUME /tmp
# The working directory is not writable: a database URL left at its SQLite
# default fails at once instead of writing into the container.
WORKDIR /

USER 10001:10001


# --- Each service: labels, listeners, ports, command ----------------------------------
# Every listener binds all of the pod's addresses and logs are JSON. A service
# with a database gets its URL and secrets from a Secret in a cluster, and a Helm
# hook Job migrates it (`migrate` as the argument): it does not migrate on start.
# No HEALTHCHECK: Kubernetes ignores it; the chart's probes ask grpc.health.v1
# (the gateway: /healthz and /readyz). Each process handles SIGTERM itself
# (health NOT_SERVING or no new requests, drain, exit).

# Secrets: IDENTITY_DATABASE_URL, IDENTITY_OPERATOR_KEY, IDENTITY_SIGNING_KEY_PASSPHRASE,
# IDENTITY_OTP_PEPPER, IDENTITY_SMTP_PASSWORD.
FROM runtime AS identity
LABEL org.opencontainers.image.title="simfleet-identity" \
      org.opencontainers.image.description="SIMfleet identity: users, credentials, one-time codes, sessions and sign-in history (gRPC)."
ENV IDENTITY_GRPC_HOST=0.0.0.0 \
    IDENTITY_METRICS_HOST=0.0.0.0 \
    IDENTITY_GRPC_PORT=50051 \
    IDENTITY_METRICS_PORT=9101 \
    IDENTITY_MIGRATE_ON_START=false \
    IDENTITY_LOG_JSON=true
# gRPC (grpc.health.v1 for the probes), Prometheus /metrics.
EXPOSE 50051 9101
ENTRYPOINT ["/opt/venv/bin/python", "-m", "identity"]
CMD ["serve"]

# Secrets: ACCOUNTS_DATABASE_URL, ACCOUNTS_OPERATOR_KEY.
FROM runtime AS accounts
LABEL org.opencontainers.image.title="simfleet-accounts" \
      org.opencontainers.image.description="SIMfleet accounts: corporate customers, their hierarchy of accounts and departments (gRPC)."
ENV ACCOUNTS_GRPC_HOST=0.0.0.0 \
    ACCOUNTS_METRICS_HOST=0.0.0.0 \
    ACCOUNTS_GRPC_PORT=50071 \
    ACCOUNTS_METRICS_PORT=9107 \
    ACCOUNTS_MIGRATE_ON_START=false \
    ACCOUNTS_LOG_JSON=true
# gRPC (grpc.health.v1 for the probes), Prometheus /metrics.
EXPOSE 50071 9107
ENTRYPOINT ["/opt/venv/bin/python", "-m", "accounts"]
CMD ["serve"]

# Secrets: INVENTORY_DATABASE_URL, INVENTORY_OPERATOR_KEY, INVENTORY_PUK_KEY (encrypts
# PUK codes at rest).
FROM runtime AS inventory
LABEL org.opencontainers.image.title="simfleet-inventory" \
      org.opencontainers.image.description="SIMfleet inventory: SIM cards, numbers, lines and the operations that provision them on the network (gRPC)."
ENV INVENTORY_GRPC_HOST=0.0.0.0 \
    INVENTORY_METRICS_HOST=0.0.0.0 \
    INVENTORY_GRPC_PORT=50081 \
    INVENTORY_METRICS_PORT=9108 \
    INVENTORY_MIGRATE_ON_START=false \
    INVENTORY_LOG_JSON=true
# gRPC (grpc.health.v1 for the probes), Prometheus /metrics.
EXPOSE 50081 9108
ENTRYPOINT ["/opt/venv/bin/python", "-m", "inventory"]
CMD ["serve"]

# Secrets: NETSIM_DATABASE_URL.
FROM runtime AS netsim
LABEL org.opencontainers.image.title="simfleet-netsim" \
      org.opencontainers.image.description="SIMfleet network simulator: SMSC with handset inboxes, SMTP sink with mailboxes, HTTP console."
ENV NETSIM_GRPC_HOST=0.0.0.0 \
    NETSIM_METRICS_HOST=0.0.0.0 \
    NETSIM_GRPC_PORT=50061 \
    NETSIM_METRICS_PORT=9106 \
    NETSIM_SMTP_HOST=0.0.0.0 \
    NETSIM_SMTP_PORT=2525 \
    NETSIM_HTTP_HOST=0.0.0.0 \
    NETSIM_HTTP_PORT=8090 \
    NETSIM_MIGRATE_ON_START=false \
    NETSIM_LOG_JSON=true
# gRPC (grpc.health.v1 for the probes), Prometheus /metrics, the SMTP sink, the
# HTTP console.
EXPOSE 50061 9106 2525 8090
ENTRYPOINT ["/opt/venv/bin/python", "-m", "netsim"]
CMD ["serve"]

# Secrets: BILLING_DATABASE_URL, BILLING_OPERATOR_KEY (the only key that moves money:
# entries are posted by the platform's automation), BILLING_PAGE_TOKEN_SECRET.
FROM runtime AS billing
LABEL org.opencontainers.image.title="simfleet-billing" \
      org.opencontainers.image.description="SIMfleet billing: the double-entry ledger of customers' personal accounts, their settlement methods (gRPC)."
ENV BILLING_GRPC_HOST=0.0.0.0 \
    BILLING_METRICS_HOST=0.0.0.0 \
    BILLING_GRPC_PORT=50091 \
    BILLING_METRICS_PORT=9109 \
    BILLING_MIGRATE_ON_START=false \
    BILLING_LOG_JSON=true
# gRPC (grpc.health.v1 for the probes), Prometheus /metrics.
EXPOSE 50091 9109
ENTRYPOINT ["/opt/venv/bin/python", "-m", "billing"]
CMD ["serve"]

# Secrets: TICKETING_DATABASE_URL, TICKETING_OPERATOR_KEY (the support desk's automation),
# TICKETING_PAGE_TOKEN_SECRET.
FROM runtime AS ticketing
LABEL org.opencontainers.image.title="simfleet-ticketing" \
      org.opencontainers.image.description="SIMfleet ticketing: customers' tickets, their TMF621 states and conversation, the operator's support desk (gRPC)."
ENV TICKETING_GRPC_HOST=0.0.0.0 \
    TICKETING_METRICS_HOST=0.0.0.0 \
    TICKETING_GRPC_PORT=50101 \
    TICKETING_METRICS_PORT=9111 \
    TICKETING_MIGRATE_ON_START=false \
    TICKETING_LOG_JSON=true
# gRPC (grpc.health.v1 for the probes), Prometheus /metrics.
EXPOSE 50101 9111
ENTRYPOINT ["/opt/venv/bin/python", "-m", "ticketing"]
CMD ["serve"]

# Secrets: NOTIFICATIONS_DATABASE_URL, NOTIFICATIONS_IDENTITY_OPERATOR_KEY (to read users' access),
# NOTIFICATIONS_PAGE_TOKEN_SECRET, NOTIFICATIONS_SMTP_PASSWORD.
FROM runtime AS notifications
LABEL org.opencontainers.image.title="simfleet-notifications" \
      org.opencontainers.image.description="SIMfleet notifications: the notices users choose, by SMS or email, from every service's events (gRPC)."
ENV NOTIFICATIONS_GRPC_HOST=0.0.0.0 \
    NOTIFICATIONS_METRICS_HOST=0.0.0.0 \
    NOTIFICATIONS_GRPC_PORT=50111 \
    NOTIFICATIONS_METRICS_PORT=9112 \
    NOTIFICATIONS_MIGRATE_ON_START=false \
    NOTIFICATIONS_LOG_JSON=true
# gRPC (grpc.health.v1 for the probes), Prometheus /metrics.
EXPOSE 50111 9112
ENTRYPOINT ["/opt/venv/bin/python", "-m", "notifications"]
CMD ["serve"]

# The gateway keeps no state; in a cluster the chart points it at the services
# (GATEWAY_IDENTITY_TARGET, ...).
FROM runtime AS gateway
LABEL org.opencontainers.image.title="simfleet-gateway" \
      org.opencontainers.image.description="SIMfleet gateway: the REST/JSON edge for frontends over the services' gRPC APIs."
ENV GATEWAY_HTTP_HOST=0.0.0.0 \
    GATEWAY_HTTP_PORT=8080 \
    GATEWAY_LOG_JSON=true
# The API, /healthz, /readyz and /metrics.
EXPOSE 8080
ENTRYPOINT ["/opt/venv/bin/python", "-m", "gateway"]


# --- The image: SERVICE's final stage -----------------------------------------------
FROM ${SERVICE}
