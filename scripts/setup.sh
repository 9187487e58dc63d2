#!/usr/bin/env bash
# Install what sharpeyes needs on a fresh Debian 12 machine (idempotent, quick when nothing is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
APT_PACKAGES=(prometheus prometheus-alertmanager prometheus-snmp-exporter prometheus-blackbox-exporter victoria-metrics
              snmpd snmp nftables poppler-utils fonts-noto-cjk iproute2 procps chromium chromium-driver zsh)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: apt-get install ${missing[*]}" >&2
  # We need the packages' binaries, not their services: while we install, policy-rc.d (Debian's
  # hook for invoke-rc.d/deb-systemd-invoke) refuses every service start, so no snmpd, Prometheus
  # or Alertmanager starts behind the user's back. An existing policy-rc.d is left alone.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  # Only the snmpd this run installed: disable its unit (it would take udp 127.0.0.1:161 at the next
  # boot, where the simulator's devices live) and say so. An snmpd the user already had is never
  # touched: sharpeyes runs its own agents on its own addresses and ports.
  if [[ " ${missing[*]} " == *" snmpd "* ]] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl disable --now snmpd.service >/dev/null 2>&1 || true
    echo "setup: disabled the snmpd.service that was just installed (re-enable: systemctl enable --now snmpd)" >&2
  fi
fi
here=$(pwd -P)
where=$(python3 -c 'import sharpeyes, snmpsim, pytest, os; print(os.path.dirname(os.path.dirname(os.path.realpath(sharpeyes.__file__))))' 2>/dev/null || true)
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
