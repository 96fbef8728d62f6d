#!/bin/bash
# Runs once, after the influxdb image's own setup (org, bucket, admin token): makes the bucket
# readable over InfluxQL (the DBRP mapping) and creates the two v1 users dokiem uses, from the
# secrets `dokiem deploy init` wrote as "user:password": one that writes (the collector), one
# that only reads (Grafana). Nothing secret is echoed.
set -euo pipefail

db="${DOKIEM_INFLUX_DB:-dokiem}"
bucket_id="$(influx bucket list --name "${DOCKER_INFLUXDB_INIT_BUCKET}" --hide-headers | cut -f1)"
influx v1 dbrp create --db "${db}" --rp autogen --bucket-id "${bucket_id}" --default

v1_user() {  # $1 = secret file holding user:password, then the permissions
    local secret user password
    secret="$(cat "$1")"
    user="${secret%%:*}"
    password="${secret#*:}"
    shift
    influx v1 auth create --username "${user}" --password "${password}" "$@" >/dev/null
    echo "dokiem: InfluxDB v1 user ${user} created"
}
v1_user /run/secrets/influx_collector_token --write-bucket "${bucket_id}" --description "dokiem collector (write)"
v1_user /run/secrets/influx_read_token --read-bucket "${bucket_id}" --description "Grafana (read only)"
