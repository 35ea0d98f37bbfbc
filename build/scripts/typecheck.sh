#!/usr/bin/env bash
# Type-checks the page API's declarations (docs/socketeer.d.ts) and the examples of docs/api.md with
# the TypeScript compiler docs/package-lock.json pins, installed into docs/node_modules (git-ignored),
# and checks that api.md shows each example exactly as it is checked. Run by `make typecheck` and
# `make test`; on a fresh Debian 12 machine it installs Node.js and npm first.
set -euo pipefail
docs="$(cd "$(dirname "$0")/../../docs" && pwd)"
cd "$docs"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "Installing: nodejs npm"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nodejs npm >/dev/null
fi
# TypeScript 5 needs Node.js 14.17 or newer (Debian 12 ships 18).
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 14 || (a === 14 && b >= 17) ? 0 : 1)'; then
  echo "Node.js $(node --version) is too old for TypeScript 5: 14.17 or newer is needed." >&2
  exit 1
fi

# Install the pinned compiler unless exactly that version is already there.
want="$(node -p 'require("./package-lock.json").packages["node_modules/typescript"].version')"
have="$(node -p 'try { require("./node_modules/typescript/package.json").version } catch (e) { "" }')"
if [ "$want" != "$have" ]; then
  npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
fi

node node_modules/typescript/bin/tsc -p tsconfig.json --noEmit --strict

# api.md shows every example under a marker line `<!-- example: examples/NAME.ts -->`; the fenced
# block after it must be the file, byte for byte, so the documented code is the checked code.
status=0
for f in examples/*.ts; do
  shown="$(awk -v want="<!-- example: $f -->" '
    $0 == want { found = 1; next }
    found == 1 && /^```ts$/ { found = 2; next }
    found == 2 && /^```$/ { exit }
    found == 2 { print }
  ' api.md)"
  if [ -z "$shown" ]; then
    echo "docs/api.md does not show docs/$f (add it under <!-- example: $f -->)" >&2
    status=1
  elif ! diff -u "$f" <(printf '%s\n' "$shown") >&2; then
    echo "docs/api.md shows docs/$f differently from the checked file (diff above)" >&2
    status=1
  fi
done
if [ "$status" -eq 0 ]; then
  echo "typecheck: socketeer.d.ts and $(ls examples/*.ts | wc -l) examples pass tsc $want --strict; api.md shows them as checked"
fi
exit "$status"
