#!/bin/sh
# test/layers.sh: the shape of the code, derived from the sources, so it
# cannot rot. Every folder is a room on a floor; arrows (includes, and
# references between compiled files) only point down:
#
#   floor 6  core/main.c      the program: wires every layer together
#   floor 5  s3/routes.c, s3/s3.h   the route table, the entry point
#   floor 4  s3/ops/          one file per family of S3 operations
#            s3/bg/           background work (the replication pusher, the lifecycle worker),
#                             beside the operations, never calling them
#   floor 3  s3/auth/         signatures, access decision, policies, ACLs
#   floor 2  s3/ (its files)  request plumbing
#   floor 1  http/, store/    rooms side by side: neither knows the other
#   floor 0  core/            process, config, logging, memory, hashing
#
# It fails, naming the include or the reference, when
#   - a file includes a file of a higher floor, or of another room on its
#     own floor;
#   - a file includes another folder's internal.h;
#   - a file of http/ or s3/ includes <lmdb.h> (store/ owns the index;
#     core's gw_strerror names LMDB's codes with every other code);
#   - the includes between modules (X.c and X.h together) run in a circle;
#   - with BUILD=dir given, the references between the compiled files of
#     that build (nm: defined and undefined symbols) run in a circle or
#     point up a floor: the call graph, not only the include graph.
#
#   sh test/layers.sh [TREE]          check TREE (default: the repository)
#   sh test/layers.sh --self-test     prove that each rule catches a
#                                     deliberate violation in a copy
#   sh test/layers.sh --all           both, ending with the summary line
#                                     "layers: N passed, N failed"
# Exit status 0 when the shape holds (and every self-test passed).

set -u

# floor FILE: the floor of a repository path; room FILE: its room.
floor() {
    case "$1" in
    core/main.c)                echo 6 ;;
    s3/routes.c|s3/s3.h)        echo 5 ;;
    s3/ops/*|s3/bg/*)           echo 4 ;;
    s3/auth/*)                  echo 3 ;;
    s3/*)                       echo 2 ;;
    http/*|store/*)             echo 1 ;;
    core/*)                     echo 0 ;;
    *)                          echo -1 ;;
    esac
}

room() {
    case "$1" in
    core/main.c)                echo main ;;
    s3/routes.c|s3/s3.h)        echo s3-routes ;;
    *)                          dirname "$1" ;;
    esac
}

# module FILE: X.c and X.h are one module.
module() {
    echo "${1%.*}"
}

# check_includes TREE: prints one line per violation; the edges between
# modules go to $edges.
check_includes() {
    (
    cd "$1" || exit 2
    find core http store s3 -name '*.[ch]' | sort | while read -r f; do
        ff=$(floor "$f")
        grep -n '^[[:space:]]*#[[:space:]]*include' "$f" | while IFS= read -r line; do
            n=${line%%:*}
            inc=$(echo "$line" | sed -n 's/.*#[[:space:]]*include[[:space:]]*["<]\([^">]*\)[">].*/\1/p')
            case "$line" in
            *'<lmdb.h>'*)
                case "$f" in
                http/*|s3/*) echo "$f:$n: includes <lmdb.h>: only store/ sees LMDB" ;;
                esac
                continue ;;
            esac
            [ -f "$inc" ] || continue          # system or third-party
            if [ "$(basename "$inc")" = internal.h ] \
               && [ "$(dirname "$inc")" != "$(dirname "$f")" ]
            then
                echo "$f:$n: includes $inc, the internal header of another folder"
            fi
            fi=$(floor "$inc")
            if [ "$fi" -gt "$ff" ]; then
                echo "$f:$n: includes $inc, a higher floor ($fi above $ff)"
            elif [ "$fi" -eq "$ff" ] && [ "$(room "$inc")" != "$(room "$f")" ]
            then
                echo "$f:$n: includes $inc, another room ($(room "$inc")) of floor $ff"
            fi
            m1=$(module "$f")
            m2=$(module "$inc")
            [ "$m1" = "$m2" ] || echo "$m1 $m2" >> "$edges"
        done
    done
    )
}

# circles EDGES WHAT: tsort names a circle in the graph of EDGES.
circles() {
    out=$(sort -u "$1" | tsort 2>&1 >/dev/null)
    if [ -n "$out" ]; then
        echo "$2 run in a circle:"
        echo "$out" | sed -n 's/^tsort: /  /p'
    fi
}

# check_objects BUILD: references between the compiled files of the tree.
check_objects() {
    b=$1
    syms=$(mktemp) || exit 2
    for o in $(cd "$b" && find core http store s3 -name '*.o' 2>/dev/null | sort); do
        src=${o%.o}.c
        [ -f "$tree/$src" ] || continue        # left over from a move
        nm "$b/$o" | awk -v f="$src" '
            $2 ~ /^[TDBR]$/ { print "D", $3, f }
            $1 == "U"       { print "U", $2, f }'
    done > "$syms"
    # For each undefined symbol that another of our files defines: an edge.
    awk '$1 == "D" { def[$2] = $3 } $1 == "U" { use[++n] = $3 " " $2 }
         END { for (i = 1; i <= n; i++) { split(use[i], a, " ");
                   if (a[2] in def && def[a[2]] != a[1])
                       print a[1], def[a[2]], a[2] } }' "$syms" |
    sort -u | while read -r from to sym; do
        ff=$(floor "$from")
        ft=$(floor "$to")
        if [ "$ft" -gt "$ff" ]; then
            echo "$from: uses $sym of $to, a higher floor ($ft above $ff)"
        elif [ "$ft" -eq "$ff" ] && [ "$(room "$to")" != "$(room "$from")" ]
        then
            echo "$from: uses $sym of $to, another room of floor $ff"
        fi
        echo "$from $to" >> "$oedges"
    done
    rm -f "$syms"
}

check() {
    tree=$1
    edges=$(mktemp) || exit 2
    oedges=$(mktemp) || exit 2
    report=$(mktemp) || exit 2
    check_includes "$tree" > "$report"
    circles "$edges" "the includes between these modules" >> "$report"
    if [ -n "${BUILD:-}" ]; then
        check_objects "$tree/$BUILD" >> "$report"
        circles "$oedges" "the references between these compiled files" \
            >> "$report"
    fi
    rm -f "$edges" "$oedges"
    if [ -s "$report" ]; then
        cat "$report"
        rm -f "$report"
        return 1
    fi
    rm -f "$report"
    return 0
}

# expect_violation NAME FILE LINE-TO-ADD PATTERN: in a fresh copy of the
# tree, adds the line to FILE and checks that the layer check fails with a
# message matching PATTERN.
self_fails=0
expect_violation() {
    name=$1 file=$2 add=$3 pattern=$4
    copy=$(mktemp -d) || exit 2
    (cd "$top" && tar cf - core http store s3) | (cd "$copy" && tar xf -)
    printf '%s\n' "$add" >> "$copy/$file"
    if out=$(BUILD= check "$copy"); then
        echo "not ok - $name: the check passed"
        self_fails=$((self_fails + 1))
    elif echo "$out" | grep -q "$pattern"; then
        echo "ok - $name"
    else
        echo "not ok - $name: it failed, but not naming '$pattern':"
        echo "$out"
        self_fails=$((self_fails + 1))
    fi
    rm -rf "$copy"
}

# expect_call_violation: two compiled files that call each other, one of
# them plumbing and the other an operation: the reference check must name
# the call up a floor and the circle.
expect_call_violation() {
    copy=$(mktemp -d) || exit 2
    mkdir -p "$copy/core" "$copy/http" "$copy/store" "$copy/s3/ops" \
        "$copy/b/s3/ops"
    echo 'void s3_x_op(void); void s3_x_plumb(void) { s3_x_op(); }' \
        > "$copy/s3/plumb.c"
    echo 'void s3_x_plumb(void); void s3_x_op(void) { s3_x_plumb(); }' \
        > "$copy/s3/ops/x.c"
    ${CC:-cc} -c -o "$copy/b/s3/plumb.o" "$copy/s3/plumb.c" || exit 2
    ${CC:-cc} -c -o "$copy/b/s3/ops/x.o" "$copy/s3/ops/x.c" || exit 2
    out=$(BUILD=b check "$copy")
    if echo "$out" | grep -q 's3/plumb.c: uses s3_x_op of s3/ops/x.c, a higher floor' \
       && echo "$out" | grep -q 'compiled files run in a circle'
    then
        echo "ok - a call up a floor, in a circle"
    else
        echo "not ok - a call up a floor, in a circle:"
        echo "$out"
        self_fails=$((self_fails + 1))
    fi
    rm -rf "$copy"
}

top=$(cd "$(dirname "$0")/.." && pwd)

if [ "${1:-}" = --all ]; then
    passed=0
    failed=1
    if sh "$0"; then
        passed=1
        failed=0
    fi
    out=$(sh "$0" --self-test)
    echo "$out"
    passed=$((passed + $(echo "$out" | grep -c '^ok - ')))
    failed=$((failed + $(echo "$out" | grep -c '^not ok - ')))
    echo "layers: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
fi

if [ "${1:-}" = --self-test ]; then
    expect_violation "store includes http" store/index.c \
        '#include "http/conn.h"' 'store/index.c:.*http/conn.h, another room'
    expect_violation "core includes s3" core/log.c \
        '#include "s3/req.h"' 'core/log.c:.*s3/req.h, a higher floor'
    expect_violation "plumbing includes auth" s3/payload.c \
        '#include "s3/auth/sigv4.h"' 's3/payload.c:.*s3/auth/sigv4.h, a higher floor'
    expect_violation "auth includes an operation" s3/auth/access.c \
        '#include "s3/ops/ops.h"' 's3/auth/access.c:.*s3/ops/ops.h, a higher floor'
    expect_violation "an operation includes the routes" s3/ops/object.c \
        '#include "s3/s3.h"' 's3/ops/object.c:.*s3/s3.h, a higher floor'
    expect_violation "s3 includes store's internal header" s3/req.c \
        '#include "store/internal.h"' 'internal header of another folder'
    expect_violation "lmdb outside store" s3/req.c \
        '#include <lmdb.h>' 's3/req.c:.*only store/ sees LMDB'
    expect_violation "a circle between modules" s3/cond.h \
        '#include "s3/put.h"' 'circle'
    expect_call_violation
    echo "layers self-test: $self_fails failed"
    [ "$self_fails" -eq 0 ]
    exit
fi

if check "${1:-$top}"; then
    echo "layers: the shape holds"
    exit 0
fi
echo "layers: the shape is broken (see above; the floors are at the top of test/layers.sh)"
exit 1
