#!/usr/bin/env bash
# The whole offline path on the bundled sample store, as two stations would run it:
# keygen, export, inspect, verify, import into a temporary target, and the reconcile report.
# Installs the Debian packages that are missing first (that step alone needs root or sudo, and only when something
# is missing). Builds the debug binary that `swift test` uses too, and runs it from the build folder: it installs
# nothing (contrib/install.sh does). Any user may run it; a user who cannot write the checkout's .build builds in
# ~/.cache/mailferry/build instead. Usage: bash samples/demo.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash .ci/install-deps
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi

work="${1:-$(mktemp -d /tmp/mailferry-demo.XXXXXX)}"
mkdir -p "$work"
# The compiler keeps caches in the home folder; a user without a writable one (nobody) gets one in WORKDIR.
if ! [ -w "${HOME:-/nonexistent}" ]; then
    export HOME="$work/home"
    mkdir -p "$HOME"
fi
build=(swift build)
if ! { [ -d .build ] && [ -w .build ]; } && ! { [ ! -e .build ] && [ -w . ]; }; then
    scratch="${XDG_CACHE_HOME:-$HOME/.cache}/mailferry/build"
    mkdir -p "$scratch"
    echo "==> $PWD/.build is not writable by $(id -un); building in $scratch"
    build+=(--scratch-path "$scratch")
fi
echo "==> ${build[*]}"
"${build[@]}"
mf="$("${build[@]}" --show-bin-path)/mailferry"
# git does not keep mtimes (a Maildir message's internal date) nor empty folders: restore them in a copy.
rm -rf "$work/store"
cp -a samples/store "$work/store"
bash samples/restore-dates.sh "$work/store" >/dev/null
rm -rf "$work/target" "$work"/station-a.* "$work"/samples.mfa*

step() { printf '\n==> %s\n' "$*"; }
step "station A: mailferry keygen --out $work/station-a"
"$mf" keygen --out "$work/station-a"
step "station A: mailferry export --source dir:$work/store --sign-key $work/station-a.key.pem --out $work/samples.mfa"
"$mf" export --source "dir:$work/store" --sign-key "$work/station-a.key.pem" --out "$work/samples.mfa"
step "anyone: mailferry inspect $work/samples.mfa"
"$mf" inspect "$work/samples.mfa"
step "station B: mailferry verify $work/samples.mfa --trust $work/station-a.pub.pem"
"$mf" verify "$work/samples.mfa" --trust "$work/station-a.pub.pem"
step "station B: mailferry import $work/samples.mfa --trust $work/station-a.pub.pem --target dir:$work/target --report $work/report.json"
"$mf" import "$work/samples.mfa" --trust "$work/station-a.pub.pem" --target "dir:$work/target" --report "$work/report.json"
step "the same archive with standard tools"
echo "\$ tar --zstd -tf samples.mfa | head -5"
tar --zstd -tf "$work/samples.mfa" > "$work/listing.txt"; head -5 "$work/listing.txt"
echo "\$ openssl pkeyutl -verify (statement.json, statement.sig)"
mkdir -p "$work/plain" && tar --zstd -xf "$work/samples.mfa" -C "$work/plain" mailferry
openssl pkeyutl -verify -pubin -inkey "$work/station-a.pub.pem" -rawin \
    -in "$work/plain/mailferry/statement.json" -sigfile "$work/plain/mailferry/statement.sig"
printf '\nDone. Archive, keys, target and report are in %s\n' "$work"
