# The service image: `gt-throughput serve` (sync on a schedule + the dashboard) on port 8501.
# Build:  docker build -t gt-throughput .
# Run:    docker run -p 8501:8501 -v gt-data:/data \
#           -v $PWD/gt-throughput.toml:/etc/gt-throughput/gt-throughput.toml:ro gt-throughput
# The image build is not exercised by our tests (no Docker daemon on our machines):
# tests/test_dockerfile.py runs this file's ENTRYPOINT/CMD and HEALTHCHECK commands from the
# project's own environment instead. See docs/deploy.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/app/.venv/bin:$PATH \
    GT_THROUGHPUT_DATA=/data \
    HOME=/home/gt

# A user without rights on the code: the service writes only the store and its own cache.
RUN useradd --create-home --home-dir /home/gt --uid 10001 --user-group gt \
    && mkdir -p /data /etc/gt-throughput \
    && chown gt:gt /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY analytics ./analytics
COPY dashboard ./dashboard
COPY sample_logs ./sample_logs
COPY gt-throughput.example.toml /etc/gt-throughput/gt-throughput.example.toml

# The install steps of the Makefile that CI runs (`make install`: a venv, pip upgraded, the
# project installed editable, so the bundled sample_logs/ beside the code is found, and its
# bytecode compiled, which PYTHONDONTWRITEBYTECODE would otherwise leave to every start), without
# the `dev` extra (test and lint tools).
RUN python3 -m venv .venv \
    && .venv/bin/python -m pip install --quiet --upgrade pip \
    && .venv/bin/python -m pip install --quiet -e . \
    && .venv/bin/python -m compileall -q analytics dashboard \
    && gt-throughput --help >/dev/null

USER gt
# Numba's compiled code (the line scanner, the metrics' kernels), compiled now as the user who
# runs the service: the code folder is not theirs, so Numba caches in their home folder.
RUN .venv/bin/python -m analytics.warm
# The store: mount a volume here (EFS on ECS, a disk on a VM); config [store] path = "/data".
VOLUME ["/data"]
EXPOSE 8501

# Healthy while the dashboard answers on its port (Streamlit's own health route).
HEALTHCHECK --interval=30s --timeout=10s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=8)"]

ENTRYPOINT ["gt-throughput"]
CMD ["serve", "--config", "/etc/gt-throughput/gt-throughput.toml"]
