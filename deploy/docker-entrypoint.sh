#!/bin/sh
# Container entrypoint: bring the schema up to date, then become the server.
set -eu

# `docker run IMAGE hexahub create-admin ...` / `docker compose run --rm app sh`:
# run the given command instead of the service.
if [ "$#" -gt 0 ]; then
    exec "$@"
fi

# Migrations are idempotent (a no-op at head) and replicas starting together queue on a
# PostgreSQL advisory lock; a failure stops the container rather than serving against an
# old schema. `exec` makes uvicorn PID 1 so it receives SIGTERM and shuts down gracefully.
hexahub migrate && exec hexahub serve
