"""The receiving pipeline: ingest, validation, archive, InfluxDB writer, fleet registry and config, API."""
