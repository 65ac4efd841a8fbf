#!/usr/bin/env bash
# What `pip install -r requirements.lock` needs from the machine before it runs: python-ldap builds
# against OpenLDAP's and Cyrus SASL's headers (Debian: libldap2-dev, libsasl2-dev) with a C compiler.
# Idempotent and quick when they are there (one dpkg query); installs them with apt-get otherwise.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(libldap2-dev libsasl2-dev gcc)
command -v dpkg-query >/dev/null || exit 0  # not Debian: the headers are the machine owner's business
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing build dependencies: ${missing[*]}"
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
