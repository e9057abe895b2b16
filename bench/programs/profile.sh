#!/usr/bin/env bash
# bench/programs/profile.sh — perf profiles of the programs part, on Debian's
# libgc.so.1 (stock) and on ours, from the files a run of
#   bash bench/run.sh programs
# left in its output directory (compiled programs in programs/, our library
# in prefix/lib/spangc-bdwgc).
#
#   bash bench/programs/profile.sh [OUT [LANG-PROGRAM...]]
#     OUT: the bench output directory (default bench/out)
#     LANG-PROGRAM: e.g. guile-vectors ecl-lists (default: all eight)
#
# Writes OUT/perf/LANG-PROGRAM-VARIANT.{data,txt}: perf record -g, then
# perf report --no-children --sort dso,sym (top 30 lines), plus the share of
# each DSO and the top libgc.so.1 symbols.  Debian's libgc.so.1 is stripped
# of its static functions: they show as addresses.
set -u -o pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${1:-$HERE/../out}
OUT=$(cd "$OUT" && pwd) || exit 2
shift || true
WHICH=${*:-"guile-binarytrees guile-lists guile-hashstrings guile-vectors ecl-binarytrees ecl-lists ecl-hashstrings ecl-vectors"}
OURS=$(dirname "$(find "$OUT/prefix" -name libgc.so.1 | head -n1)")
[ -e "$OURS/libgc.so.1" ] || { echo "profile.sh: no libgc.so.1 under $OUT/prefix (run bench/run.sh programs first)" >&2; exit 2; }
command -v perf >/dev/null || { echo "profile.sh: perf not found (apt-get install -y linux-perf)" >&2; exit 2; }
mkdir -p "$OUT/perf"
for lp in $WHICH; do
  lang=${lp%%-*} n=${lp#*-}
  case $lang in
  guile) cmd=(guile --no-auto-compile -c "(load-compiled \"$OUT/programs/guile/$n.go\")") ;;
  ecl) cmd=(ecl --norc --load "$OUT/programs/ecl/$n.fas" --eval "(ext:quit 0)") ;;
  *) echo "profile.sh: unknown language in $lp" >&2; exit 2 ;;
  esac
  for v in stock ours; do
    if [ $v = ours ]; then e=(env LD_LIBRARY_PATH="$OURS"); else e=(env -u LD_LIBRARY_PATH); fi
    f=$OUT/perf/$lp-$v
    "${e[@]}" perf record -q -g -o "$f.data" -- "${cmd[@]}" >"$f.out" 2>&1 || { echo "profile.sh: $lp $v failed (see $f.out)" >&2; continue; }
    {
      echo "## $lp on $v ($(grep 'check:' "$f.out"))"
      echo "# by DSO"
      perf report -i "$f.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -6
      echo "# libgc.so.1 symbols"
      perf report -i "$f.data" --no-children --sort sym --stdio -g none --dsos libgc.so.1.5.1 2>/dev/null | grep -v '^#' | grep -v '^$' | head -10
      echo "# dso,sym"
      perf report -i "$f.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -30
    } >"$f.txt"
    echo "$f.txt"
  done
done
