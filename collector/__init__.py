"""The receiving side: the test server now; ingest, validation, archive, InfluxDB, fleet and reports next."""
