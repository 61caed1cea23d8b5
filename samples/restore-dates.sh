#!/bin/sh
# Put back what git does not keep in samples/store:
#   - each message file's mtime (its IMAP internal date), from store-dates.tsv;
#   - the empty cur/ new/ tmp/ directories every Maildir++ folder must have.
#
# usage: sh samples/restore-dates.sh [STORE_DIR]
#   STORE_DIR defaults to samples/store next to this script; pass a copy's path
#   to fix up a copy instead (the TSV paths are relative to the store root).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
store=${1:-"$here/store"}
table="$here/store-dates.tsv"

[ -d "$store" ] || { echo "restore-dates: no store at $store" >&2; exit 1; }
[ -f "$table" ] || { echo "restore-dates: missing $table" >&2; exit 1; }

# Every Maildir root and every .Folder directory below it gets cur/new/tmp.
for maildir in "$store"/*/Maildir; do
    [ -d "$maildir" ] || continue
    for folder in "$maildir" "$maildir"/.[!.]*; do
        [ -d "$folder" ] || continue
        mkdir -p "$folder/cur" "$folder/new" "$folder/tmp"
    done
done

tab=$(printf '\t')
count=0
while IFS="$tab" read -r rel epoch; do
    [ -n "$rel" ] || continue
    file="$store/$rel"
    if [ ! -f "$file" ]; then
        echo "restore-dates: missing $rel" >&2
        exit 1
    fi
    touch -m -d "@$epoch" "$file"
    count=$((count + 1))
done < "$table"

echo "restore-dates: set $count message dates under $store"
