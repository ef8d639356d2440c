# The image of the flow-run pods (work pool resolwe-kubernetes): Python, Prefect and this project.
# Programs do not run here; they run in their process's own image (KubernetesBackend).
# Build from the repository root:
#   docker build -f deployments/kubernetes/flow.Dockerfile -t <registry>/resolwe-prefect/flow:<tag> .
FROM python:3.11-slim-bookworm
RUN groupadd --gid 1000 resolwe && useradd --uid 1000 --gid 1000 --create-home resolwe \
    && mkdir -p /var/lib/resolwe-prefect && chown resolwe:resolwe /var/lib/resolwe-prefect
WORKDIR /opt/resolwe-prefect
COPY pyproject.toml README.md prefect.yaml ./
COPY resolwe_prefect ./resolwe_prefect
COPY django_project ./django_project
COPY processes ./processes
RUN pip install --no-cache-dir . && chmod -R a+rX /opt/resolwe-prefect
ENV DJANGO_SETTINGS_MODULE=django_project.settings \
    RESOLWE_PREFECT_HOME=/var/lib/resolwe-prefect \
    RESOLWE_PREFECT_BACKEND=kubernetes \
    PYTHONUNBUFFERED=1
USER 1000:1000
