#!/usr/bin/env bash
# Starts Socketeer (its launcher). Without a desktop (no DISPLAY or WAYLAND_DISPLAY) it first starts a
# virtual display with Xvfb, says which, and stops it again when the app exits.
set -euo pipefail
bin="${1:-build/bin/socketeer}"

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  fifo="$(mktemp -u)"
  mkfifo "$fifo"
  Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$fifo" &
  xvfb=$!
  trap 'kill "$xvfb" 2>/dev/null || true; rm -f "$fifo"' EXIT
  read -r num <"$fifo"
  export DISPLAY=":$num"
  echo "No display found: started a virtual display (Xvfb) on $DISPLAY."
  echo "To look at it: DISPLAY=$DISPLAY import -window root screenshot.png"
fi
# With no arguments Socketeer opens its launcher, which lists the site profiles (the demo first).
"$bin"
