#!/usr/bin/env bash
# Cross-builds socketeer.exe for 64-bit Windows and its installer, with Debian's makensis and the
# NSIS script in Wails' layout (build/windows/installer/). Wails needs no cgo on Windows, so this
# runs on Linux as it is. Both land in build/bin/.
set -euo pipefail
version="${1:-dev}"
cd "$(dirname "$0")/../.."
mkdir -p build/bin

# Windows' version resources take numbers only: a tag's x.y.z, or 0.0.0 for an untagged build (the
# installer also carries the full version text).
numeric="0.0.0"
if [[ "$version" =~ ^v?([0-9]+\.[0-9]+\.[0-9]+) ]]; then numeric="${BASH_REMATCH[1]}"; fi

# The icon, manifest and version information go in as a .syso object, which go build links only
# into Windows binaries and which is removed again right after.
syso=socketeer_windows_amd64.syso
trap 'rm -f "$syso"' EXIT
go run ./build/windows/mkres -version "$numeric" -out "$syso"
GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build -tags desktop,production \
  -ldflags "-s -w -X socketeer/app.Version=$version" -o build/bin/socketeer.exe .
rm -f "$syso"
installer=build/bin/socketeer-amd64-installer.exe
rm -f "$installer"
(cd build/windows/installer && makensis -V2 -WX \
  -DARG_WAILS_AMD64_BINARY=../../bin/socketeer.exe \
  -DINFO_PRODUCTVERSION="$numeric" -DSOCKETEER_VERSION="$version" \
  -DOUTFILE=../../bin/socketeer-amd64-installer.exe project.nsi)

# Both must be Windows programs (an "MZ" header), the program must carry its manifest, and the
# installer must carry the program.
for f in build/bin/socketeer.exe "$installer"; do
  if [ "$(head -c 2 "$f")" != "MZ" ]; then echo "windows: $f is not a Windows program" >&2; exit 1; fi
done
if ! grep -q "Microsoft.Windows.Common-Controls" build/bin/socketeer.exe; then
  echo "windows: socketeer.exe has no application manifest" >&2
  exit 1
fi
# The program must say at start that site windows need Linux (app/platform_windows.go).
if ! grep -q "site windows and the socket bridge need Linux" build/bin/socketeer.exe; then
  echo "windows: socketeer.exe lacks the notice that site windows need Linux" >&2
  exit 1
fi
exe_size=$(stat -c %s build/bin/socketeer.exe)
inst_size=$(stat -c %s "$installer")
if ((inst_size < exe_size / 4)); then
  echo "windows: the installer ($inst_size bytes) is too small to hold socketeer.exe ($exe_size bytes)" >&2
  exit 1
fi
echo "windows: build/bin/socketeer.exe ($exe_size bytes), $installer ($inst_size bytes)"
