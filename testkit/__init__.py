"""What the tests, the benchmarks and the scripts all need: real servers started on free ports
(Mosquitto, InfluxDB, PostgreSQL, Apache/nginx/php -S with LibreSpeed, hostile HTTP servers),
configs and results made on the spot, generated quarters. Not installed: a repository tool."""
