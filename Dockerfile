# syntax=docker/dockerfile:1
# ruleiq-data: `docker build -t ruleiq-data .`, then `docker run -e DATABASE_URL=... ruleiq-data`
# (`migrate` instead of the default `serve` runs the migrations and exits).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: a virtualenv with exactly the locked runtime dependencies -----------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY requirements/runtime.lock requirements/runtime.lock
# Every package pinned and hash-checked; nothing resolved at build time.
RUN pip install --require-hashes --no-deps -r requirements/runtime.lock
# The generated client package (ruleiq.data.v1), which the service imports.
COPY protos/ protos/
RUN pip install --no-deps ./protos

# --- runtime: the venv and the sources, as a non-root user -------------------------
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 ruleiq \
    && useradd --system --uid 10001 --gid ruleiq --home-dir /nonexistent --no-create-home \
       --shell /usr/sbin/nologin ruleiq
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY alembic.ini ./
COPY alembic/ alembic/
COPY repositories/ repositories/
COPY service/ service/
COPY protos/ protos/
# Compiled now: the container's root filesystem is read-only in deploy/.
RUN /opt/venv/bin/python -m compileall -q alembic repositories service
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
EXPOSE 50051
ENTRYPOINT ["python", "-m", "service"]
CMD ["serve"]
