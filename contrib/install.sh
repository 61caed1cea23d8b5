#!/usr/bin/env bash
# Installs mailferry: a release build, the binary into PREFIX/bin and the man page into PREFIX/share/man/man1.
#
#   bash contrib/install.sh              # PREFIX /usr/local: /usr/local/bin/mailferry, as contrib/mailferry-buffer.service expects
#   bash contrib/install.sh ~/.local     # for one user, no root needed: ~/.local/bin/mailferry
#   DESTDIR=/tmp/pkg bash contrib/install.sh /usr    # staged, for packaging
#
# Installs the Debian packages the build needs when they are missing (that step needs root or sudo). Builds as the
# user who runs it; only the copy into PREFIX uses sudo, when PREFIX is not writable and sudo exists. The man page
# is contrib/mailferry.1, made from the help texts by swift-argument-parser's generate-manual tool
# (scripts/generate-manual.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

case "${1:-}" in
    -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
esac
PREFIX="${1:-/usr/local}"
case "$PREFIX" in
    /*) ;;
    *) echo "install.sh: PREFIX must be an absolute path (got $PREFIX)" >&2; exit 2 ;;
esac
DEST="${DESTDIR:-}$PREFIX"

bash .ci/install-deps --build
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
command -v swift >/dev/null 2>&1 || { echo "install.sh: swift not found (looked in PATH and /opt/swift/usr/bin)" >&2; exit 1; }

echo "==> swift build -c release --product mailferry"
swift build -c release --product mailferry
binary="$(swift build -c release --show-bin-path)/mailferry"

# The man page is kept in the repository (scripts/generate-manual.sh makes it from the help texts; ManualPageTests
# keeps it complete), so installing needs no second, release-mode build by the generate-manual plugin.
manual=contrib/mailferry.1

# Copy as this user when PREFIX is writable, else through sudo.
run=()
parent="$DEST"
while [ ! -e "$parent" ]; do parent="$(dirname "$parent")"; done
if ! [ -w "$parent" ] || { [ -e "$DEST/bin" ] && ! [ -w "$DEST/bin" ]; }; then
    if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then
        run=(sudo)
    else
        echo "install.sh: $DEST is not writable by $(id -un); run as root, or give a PREFIX of your own (bash contrib/install.sh ~/.local)" >&2
        exit 1
    fi
fi
"${run[@]}" install -d -m 0755 "$DEST/bin"
"${run[@]}" install -m 0755 "$binary" "$DEST/bin/mailferry"
echo "installed $DEST/bin/mailferry"
"${run[@]}" install -d -m 0755 "$DEST/share/man/man1"
"${run[@]}" install -m 0644 "$manual" "$DEST/share/man/man1/mailferry.1"
echo "installed $DEST/share/man/man1/mailferry.1 (man mailferry)"
"$DEST/bin/mailferry" --version >/dev/null
case ":$PATH:" in
    *":$PREFIX/bin:"*) ;;
    *) [ -n "${DESTDIR:-}" ] || echo "note: $PREFIX/bin is not on PATH; add it (export PATH=\"$PREFIX/bin:\$PATH\") to run mailferry by name" ;;
esac
echo "the buffer as a service: contrib/mailferry-buffer.service runs /usr/local/bin/mailferry (README, \"The buffer as a systemd service\")"
