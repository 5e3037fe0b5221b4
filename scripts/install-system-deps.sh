#!/usr/bin/env bash
# System tools the project needs: bcftools and tabix (the reference implementation our counts and
# benchmarks are checked against) and chromium (the portal's end-to-end tests drive it with
# Playwright; no browser is downloaded from anywhere but Debian's archive). Installs from Debian's packages when run as root and missing;
# otherwise says what to install. Idempotent.
set -euo pipefail
missing=()
command -v bcftools >/dev/null || missing+=(bcftools)
command -v tabix >/dev/null || missing+=(tabix)
command -v bgzip >/dev/null || missing+=(tabix)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "warning: ${missing[*]} not installed; the reference tests that compare with bcftools will be skipped." >&2
  echo "         install them with: sudo apt-get install ${missing[*]}" >&2
fi
