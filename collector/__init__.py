"""The receiving pipeline: ingest, validation, archive, InfluxDB writer, fleet registry and config, API."""

from dokiem.collector import messages as _messages  # noqa: F401 (the room's texts join the catalogue)
