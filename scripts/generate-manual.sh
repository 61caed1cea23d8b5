#!/usr/bin/env bash
# Writes contrib/mailferry.1, the mailferry(1) man page, from the commands' help texts: swift-argument-parser's
# generate-manual tool reads the built binary's command tree, then scripts/tidy_manual.py turns the help texts'
# blank lines and indented examples into mdoc, so `groff -mandoc -ww` renders it without a warning.
# Run it after changing a command's help and commit the page; ManualPageTests fails while a command is missing.
#
#   bash scripts/generate-manual.sh
#
# (`swift package generate-manual` runs the same tool but first makes a release build; this uses the debug one.)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
swift build --product mailferry
swift build --product generate-manual
bin="$(swift build --show-bin-path)"
tool="$bin/generate-manual-tool"
[ -x "$tool" ] || tool="$bin/generate-manual"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The date of the last change to the help texts' sources, so regenerating an unchanged tree changes nothing.
date="$(git log -1 --format=%cs -- Sources/mailferry 2>/dev/null || date +%F)"
"$tool" "$bin/mailferry" --date "$date" --output-directory "$work"
python3 scripts/tidy_manual.py <"$work/mailferry.1" >contrib/mailferry.1
groff -mandoc -Tutf8 -ww -z contrib/mailferry.1
echo "wrote contrib/mailferry.1"
