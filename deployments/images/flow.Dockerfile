# The image docker-pool flow runs use: Python, Prefect and resolwe-prefect on the local base image.
# Programs do not run here: the flow starts each one in its own container (RESOLWE_PREFECT_BACKEND=docker),
# so this image only needs the flow's dependencies. Build from the repository root:
#   docker build -f deployments/images/flow.Dockerfile -t resolwe-prefect/flow:latest .
FROM resolwe-prefect/base:bookworm-py
USER root
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv && rm -rf /var/lib/apt/lists/*
COPY . /opt/resolwe-prefect
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir /opt/resolwe-prefect
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /opt/resolwe-prefect
