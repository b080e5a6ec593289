#!/usr/bin/env bash
# Makes sure the system packages in the lists given (default: scripts/system-packages.txt)
# are installed: as root via apt-get, otherwise stops with a message naming the missing ones.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
lists=("$@")
[ ${#lists[@]} -gt 0 ] || lists=("$here/system-packages.txt")
mapfile -t wanted < <(cat "${lists[@]}" | grep -v '^\s*#' | grep -v '^\s*$')
missing=()
for package in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
# A Python 3.11 not from Debian (pyenv, a python.org build) brings its own venv module.
if python3 -c 'import ensurepip, venv' 2>/dev/null; then
  filtered=()
  for package in "${missing[@]}"; do [ "$package" = python3-venv ] || filtered+=("$package"); done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "hmsportal needs these system packages (names as on Debian/Ubuntu): ${wanted[*]}" >&2
  echo "Install their equivalents with your package manager, then run make again." >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  echo "Installing system packages with sudo: ${missing[*]}"
  sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "hmsportal needs these system packages, which are not installed:" >&2
  echo "    sudo apt-get install ${missing[*]}" >&2
  echo "Run that (or make as root), then run make again." >&2
  exit 1
fi
