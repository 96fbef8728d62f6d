# One image for the collector, the test server and the agent (entry point: dokiem).
# Builds for amd64 and arm64 alike (docker buildx build --platform linux/amd64,linux/arm64 .):
# every dependency ships wheels for both, so nothing compiles.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY dokiem ./dokiem
COPY agent ./agent
COPY collector ./collector
COPY testserver ./testserver
COPY reports ./reports
COPY admin ./admin
COPY grafana ./grafana
RUN python -m venv /opt/dokiem \
    && /opt/dokiem/bin/pip install --no-cache-dir --disable-pip-version-check '.[collector]' \
    && find /opt/dokiem -name '__pycache__' -prune -exec rm -rf {} +

FROM python:3.11-slim
# DejaVu Sans carries every Vietnamese letter for the quarterly report's PDF
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 dokiem \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/dokiem --create-home dokiem
COPY --from=build /opt/dokiem /opt/dokiem
ENV PATH=/opt/dokiem/bin:$PATH \
    DOKIEM_DATA_DIR=/var/lib/dokiem \
    PYTHONUNBUFFERED=1
USER 10001
WORKDIR /var/lib/dokiem
EXPOSE 8080 8081
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)" || exit 1
ENTRYPOINT ["dokiem"]
CMD ["testserver", "--listen", "0.0.0.0:8080"]
