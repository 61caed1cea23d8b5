#!/usr/bin/env bash
# The whole offline path on the bundled sample store, as two stations would run it:
# keygen, export, inspect, verify, import into a temporary target, and the reconcile report.
# Installs the Debian packages that are missing first. Usage: bash samples/demo.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash .ci/install-deps
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
echo "==> swift build"
swift build
mf="$(swift build --show-bin-path)/mailferry"

work="${1:-$(mktemp -d /tmp/mailferry-demo.XXXXXX)}"
mkdir -p "$work"
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
