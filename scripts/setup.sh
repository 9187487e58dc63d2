#!/usr/bin/env bash
# Install what sharpeyes needs on a fresh Debian 12 machine (idempotent, quick when nothing is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
APT_PACKAGES=(prometheus prometheus-alertmanager prometheus-snmp-exporter prometheus-blackbox-exporter
              snmpd snmp nftables poppler-utils fonts-noto-cjk iproute2 procps)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: apt-get install ${missing[*]}" >&2
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's postinst may start snmpd on :161; the simulator and tests run their own agents.
pkill -x snmpd 2>/dev/null || true
here=$(pwd -P)
where=$(python3 -c 'import inventory, exporters, snmpsim, pytest, os; print(os.path.dirname(os.path.dirname(os.path.realpath(inventory.__file__))))' 2>/dev/null || true)
if [ "$where" != "$here" ] || [ pyproject.toml -nt var/.pip-installed ]; then
  echo "setup: pip install -e .[test]" >&2
  python3 -m pip install -q --disable-pip-version-check -e '.[test]'
  mkdir -p var && touch var/.pip-installed
fi
# unprivileged ICMP echo sockets (icmplib), as the exporter's deployment sets it
sysctl -q -w net.ipv4.ping_group_range="0 2147483647" 2>/dev/null || true
if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi
