#!/usr/bin/env bash
# Make sure the real parts the test suite drives are here: PostgreSQL answering on
# 127.0.0.1:5432, Chromium for screenshots, systemd-analyze for the unit check.
# Installs what is missing when it can (root with apt); says what is missing when it cannot.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

can_install() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }

have_postgres() {
  python3 - <<'PY'
import socket, sys
try:
    socket.create_connection(("127.0.0.1", 5432), timeout=2).close()
except OSError:
    sys.exit(1)
PY
}

apt_updated=0
apt_install() {
  can_install || { echo "services: missing $*; install it (as root: apt-get install $*)" >&2; return 1; }
  if [ "$apt_updated" = 0 ]; then apt-get update -qq; apt_updated=1; fi
  apt-get install -y -qq "$@" >/dev/null
}

# PostgreSQL: start the installed cluster, or install one, unless something already answers.
if ! have_postgres; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    echo "services: installing PostgreSQL"
    apt_install postgresql
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  conf=/etc/postgresql/$version/main
  grep -q "^host all all 127.0.0.1/32 trust" "$conf/pg_hba.conf" ||
    sed -i '1i host all all 127.0.0.1/32 trust' "$conf/pg_hba.conf"
  # restart, not start: a fresh install may already be running without the trust line
  pg_ctlcluster --skip-systemctl-redirect "$version" main restart ||
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do have_postgres && break; sleep 1; done
fi
have_postgres || { echo "services: PostgreSQL does not answer on 127.0.0.1:5432" >&2; exit 1; }

# Tools the test suite drives for real.
command -v systemd-analyze >/dev/null || apt_install systemd
command -v chromium >/dev/null || apt_install chromium

