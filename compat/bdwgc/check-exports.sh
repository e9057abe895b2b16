#!/bin/sh
# check-exports.sh LIB SYMBOLS [INTERPOSERS [STOCK]]: LIB's dynamic symbol
# table defines exactly the names of SYMBOLS ("name data|func" per line),
# each as that kind, plus the functions named in INTERPOSERS (one per line:
# spangc's signal interposers), and none carries a symbol version; the
# soname is libgc.so.1.
#
# When the stock library is present (STOCK, default Debian's
# /usr/lib/x86_64-linux-gnu/libgc.so.1; "none" skips), LIB's GC_ names are
# also compared with it: the same names, each a function in both or data
# in both, and every data object of the same size (a program linked
# against the stock library copies data objects into itself with the
# stock size; a different size breaks it).
set -eu
lib=$1; list=$2; interposers=${3:-}
stock=${4:-/usr/lib/x86_64-linux-gnu/libgc.so.1}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
if [ -n "$interposers" ]; then
  { cat "$list"; awk 'NF {print $1, "func"}' "$interposers"; } >"$tmp/list"
  list=$tmp/list
fi
# nm -D: "addr TYPE name[@version]"; data is B/D/G/R/S/V, functions T/W/i.
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
    data:[BDGRSV]|func:[TWi]) ;;
    *) echo "$name: exported as type $t, expected $kind"; status=1 ;;
  esac
done <"$list"
# "name func|data size" of the GC_ names a library defines.
# CHECK_EXPORT_SIZES=0 (AddressSanitizer builds, whose redzones pad every
# data object): names and kinds only.
gc_table() {
  readelf -W --dyn-syms "$1" | awk -v sizes="${CHECK_EXPORT_SIZES:-1}" '
    $7 != "UND" && $8 ~ /^GC_/ {
      name = $8; sub(/@.*/, "", name)
      kind = ($4 == "FUNC" || $4 == "IFUNC") ? "func" : "data"
      # as readelf prints it (hex when large)
      size = kind == "data" && sizes != 0 ? $3 : 0
      print name, kind, size
    }' | sort -u
}
if [ "$stock" != none ] && [ -f "$stock" ]; then
  gc_table "$stock" >"$tmp/stock.tab"
  gc_table "$lib" >"$tmp/ours.tab"
  if ! diff -u "$tmp/stock.tab" "$tmp/ours.tab" >"$tmp/stock.diff"; then
    echo "GC_ exports differ from the stock $stock (- stock, + ours; name kind data-size):"
    grep '^[-+][^-+]' "$tmp/stock.diff"; status=1
  else
    echo "GC_ exports match the stock $stock ($(wc -l <"$tmp/stock.tab") names, kinds and data sizes)"
  fi
elif [ "$stock" != none ]; then
  echo "stock library $stock not found: not compared"
fi
soname=$(objdump -p "$lib" | awk '$1 == "SONAME" {print $2}')
[ "$soname" = libgc.so.1 ] || { echo "soname is '$soname', not libgc.so.1"; status=1; }
[ $status -eq 0 ] && echo "exports match $list ($(wc -l <"$tmp/want.names") names)"
exit $status
