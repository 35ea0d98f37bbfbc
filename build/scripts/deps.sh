#!/usr/bin/env bash
# Installs what building, running and testing Socketeer need on Debian 12, and nothing that is
# already there. It is run by `make` before anything else, so a fresh machine needs no other step.
set -euo pipefail

packages=(
  gcc pkg-config                        # cgo
  libgtk-3-dev libwebkit2gtk-4.1-dev    # GTK 3 and WebKitGTK 4.1 for the window and the web view
  xvfb xauth                            # a virtual display for `make run` without a desktop, and for tests
  xdotool x11-utils imagemagick         # tests drive real windows and take screenshots
  iproute2 util-linux                   # tests make network namespaces of their own (ip, unshare)
  ca-certificates
  glib-networking                       # runtime dependency of the .deb (TLS for WebKit), so `dpkg -i` finds it
  desktop-file-utils                    # desktop-file-validate for the package test
  nsis                                  # makensis builds the Windows installer
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "Installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v go >/dev/null 2>&1; then
  echo "Go 1.26 or newer is needed and was not found in PATH or /usr/local/go/bin." >&2
  exit 1
fi
go mod download
