# One image for the collector, the test server and the agent (entry point: dokiem).
# Builds for amd64 and arm64 alike: every dependency ships wheels for both.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY dokiem ./dokiem
COPY agent ./agent
COPY collector ./collector
RUN python -m venv /opt/dokiem \
    && /opt/dokiem/bin/pip install --no-cache-dir --disable-pip-version-check '.[collector]'

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/dokiem --create-home dokiem
COPY --from=build /opt/dokiem /opt/dokiem
ENV PATH=/opt/dokiem/bin:$PATH \
    DOKIEM_DATA_DIR=/var/lib/dokiem \
    PYTHONUNBUFFERED=1
USER dokiem
WORKDIR /var/lib/dokiem
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)" || exit 1
ENTRYPOINT ["dokiem"]
CMD ["testserver", "--listen", "0.0.0.0:8080"]
