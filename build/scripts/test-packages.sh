#!/usr/bin/env bash
# The package test: builds the Debian package, installs it on this machine with dpkg, checks the
# installed files and runs the installed app (its version, a headless demo and a socket round trip
# under Xvfb, a per-site package built and installed next to it), then purges everything and checks
# that nothing is left but user data.
#
# dpkg is machine-wide, so runs take a lock, refuse to touch a Socketeer installed by someone else,
# and purge what they installed from an EXIT trap even when a check fails.
#
#   build/scripts/test-packages.sh build/bin/socketeer VERSION
set -euo pipefail
bin="${1:-build/bin/socketeer}"
version="${2:-dev}"
cd "$(dirname "$0")/../.."
tags=desktop,production,webkit2_41

fail() { echo "package test: FAIL: $*" >&2; exit 1; }
say() { echo "package test: $*"; }

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

# One run at a time on this machine: two would install and purge under each other's feet.
lockdir=/run/lock
if [ ! -d "$lockdir" ]; then lockdir=/tmp; fi
exec 9>"$lockdir/socketeer-package-test.lock"
if ! flock -w 1200 9; then fail "another package test has held the lock for 20 minutes"; fi

# Packages this run would replace. A Socketeer the developer installed is not clobbered silently.
present=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' 'socketeer' 'socketeer-site-*' 2>/dev/null |
  awk '$1 != "un" && $1 != "pn" {print $2}' || true)
if [ -n "$present" ]; then
  fail "these packages are installed on this machine and the test would replace them:" $present \
    "- remove them first (apt purge ...) and run the test again"
fi

deb=$(go run ./build/linux/mkdeb -bin "$bin" -version "$version" -out build/bin)
say "built $deb ($(stat -c %s "$deb") bytes)"
mapfile -t paths < <(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\.||; s|/$||' | grep -v '^$')

# What already exists of the package's paths (/usr, /usr/share/icons/hicolor/48x48/apps...):
# only the rest must be gone after the purge.
declare -A existed=()
for p in "${paths[@]}"; do
  if [ -e "$p" ]; then existed[$p]=1; fi
done

cleanup() {
  local status=$?
  if [ "$status" -ne 0 ]; then echo "package test: FAIL (exit status $status)" >&2; fi
  local left
  left=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' 'socketeer' 'socketeer-site-*' 2>/dev/null |
    awk '$1 != "un" && $1 != "pn" {print $2}' | sort -r || true)
  if [ -n "$left" ]; then
    say "purging" $left
    # Site packages sort after socketeer in reverse order, so they go first (they depend on it).
    $sudo dpkg --purge $left >/dev/null || status=1
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "installing"
$sudo dpkg -i "$deb" >/dev/null

# The installed package, its command and its files.
[ "$(dpkg-query -W -f='${db:Status-Abbrev}' socketeer)" = "ii " ] || fail "socketeer is not installed after dpkg -i"
got=$(/usr/bin/socketeer version)
[ "$got" = "socketeer $version" ] || fail "/usr/bin/socketeer version says '$got', want 'socketeer $version'"
# Hints and warnings count too: they name things some desktop will get wrong.
out=$(desktop-file-validate /usr/share/applications/socketeer.desktop 2>&1) && [ -z "$out" ] ||
  fail "the desktop entry does not validate: $out"
for f in /usr/share/icons/hicolor/{16x16,48x48,256x256,512x512}/apps/socketeer.png \
  /usr/share/icons/hicolor/scalable/apps/socketeer.svg /usr/share/doc/socketeer/copyright \
  /usr/share/doc/socketeer/README.policy /usr/share/doc/socketeer/examples/policy.json; do
  [ -s "$f" ] || fail "$f is missing"
done
[ -d /etc/socketeer/policy.d ] || fail "/etc/socketeer/policy.d is missing"
man_src=$(zcat /usr/share/man/man1/socketeer.1.gz)
[[ "$man_src" == *'.TH SOCKETEER 1'* ]] || fail "the man page is not installed"
if command -v man >/dev/null; then
  warnings=$(MANWIDTH=80 man --warnings -l /usr/share/man/man1/socketeer.1.gz 2>&1 >/dev/null)
  if [ -n "$warnings" ]; then fail "the man page has formatting warnings: $warnings"; fi
fi

# Every library the binary links must come from a package the .deb depends on; Depends naming the
# -dev packages or missing one would break installs on machines without the build dependencies.
depends=$(dpkg-query -W -f='${Depends}' socketeer | tr ',' '\n' | sed 's/(.*//; s/ //g')
for lib in $(objdump -p /usr/bin/socketeer | awk '/NEEDED/ {print $2}'); do
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l && !found {print $NF; found = 1}')
  [ -n "$path" ] || fail "$lib is not found on this machine"
  # dpkg knows a file by the path its package ships it at, which on a merged /usr may be the /lib
  # or the /usr/lib spelling, of the link or of the file it points to.
  owner=""
  for candidate in "$path" "/usr${path#/usr}" "$(readlink -f "$path")"; do
    owner=$(dpkg -S "$candidate" 2>/dev/null | awk -F: 'NR == 1 {print $1}' || true)
    if [ -n "$owner" ]; then break; fi
  done
  grep -qx "$owner" <<<"$depends" || fail "$lib comes from $owner, which is not in Depends: $(tr '\n' ' ' <<<"$depends")"
done
if grep -q -- '-dev$' <<<"$depends"; then fail "Depends names a -dev package"; fi
say "installed files, version, desktop entry, man page and Depends are right"

# The installed app, under Xvfb: the demo opens and talks to its echo service, a page round-trips
# data through a socket, and a per-site package built by the installed app installs next to it.
SOCKETEER_BIN=/usr/bin/socketeer SOCKETEER_PACKAGE_TEST=installed \
  go test -tags "$tags" -count=1 -timeout 12m -run 'TestInstalled|TestEchoBothShapes' ./app/e2e/

say "purging"
$sudo dpkg --purge socketeer >/dev/null
[ "$(dpkg-query -W -f='${db:Status-Abbrev}' socketeer 2>/dev/null || true)" != "ii " ] || fail "socketeer is still installed"
for p in "${paths[@]}"; do
  if [ -z "${existed[$p]:-}" ] && [ -e "$p" ]; then fail "$p is left after the purge"; fi
done
say "purged: nothing of the package is left"
