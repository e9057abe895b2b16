#!/bin/sh
# check-exports.sh LIB SYMBOLS [INTERPOSERS]: LIB's dynamic symbol table
# defines exactly the names of SYMBOLS ("name data|func" per line), each as
# that kind, plus the functions named in INTERPOSERS (one per line: spangc's
# signal interposers), and none carries a symbol version; the soname is
# libgc.so.1.
set -eu
lib=$1; list=$2; interposers=${3:-}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
if [ -n "$interposers" ]; then
  { cat "$list"; awk 'NF {print $1, "func"}' "$interposers"; } >"$tmp/list"
  list=$tmp/list
fi
# nm -D: "addr TYPE name[@version]"; data is B/D/G/S/V, functions T/W/i.
nm -D --defined-only "$lib" | awk '{print $3, $2}' | sort >"$tmp/have"
status=0
if grep -q '@' "$tmp/have"; then
  echo "versioned symbols exported:"; grep '@' "$tmp/have"; status=1
fi
awk '{print $1}' "$tmp/have" | sort >"$tmp/have.names"
awk 'NF {print $1}' "$list" | sort >"$tmp/want.names"
if ! diff -u "$tmp/want.names" "$tmp/have.names" >"$tmp/diff"; then
  echo "exports differ from $list (- missing, + extra):"; grep '^[-+][^-+]' "$tmp/diff"; status=1
fi
while read -r name kind; do
  [ -n "$name" ] || continue
  t=$(awk -v n="$name" '$1 == n {print $2}' "$tmp/have")
  [ -n "$t" ] || continue
  case "$kind:$t" in
    data:[BDGSV]|func:[TWi]) ;;
    *) echo "$name: exported as type $t, expected $kind"; status=1 ;;
  esac
done <"$list"
soname=$(objdump -p "$lib" | awk '$1 == "SONAME" {print $2}')
[ "$soname" = libgc.so.1 ] || { echo "soname is '$soname', not libgc.so.1"; status=1; }
[ $status -eq 0 ] && echo "exports match $list ($(wc -l <"$tmp/want.names") names)"
exit $status
