#!/usr/bin/env bash
# fetch-lua.sh DEST — prepare Lua 5.4 sources for ltod's tests and benchmarks.
#
# Lua is taken from the PyPI source distribution of `lupa` 2.8, which vendors
# the Lua development repository (5.4.8) at lupa-2.8/third-party/lua54/,
# including Lua's own test suite in testes/. Nothing is committed to the repo:
# DEST should live outside it (e.g. /tmp/ltod-fixtures/lua54).
#
# Result:
#   DEST/src/*.c, *.h     Lua's sources (all .c/.h of third-party/lua54)
#   DEST/testes/          Lua's test suite (copied as is)
#   DEST/files.txt        the 33 .c files (one per line, relative to DEST/src)
#                         that make up the `lua` interpreter: core + lauxlib +
#                         libs + lua.c; excludes ltests.c (internal test hooks,
#                         empty without -DLUA_USER_H) and onelua.c (amalgamation).
#   DEST/testes-pass.txt  the testes/*.lua files verified to pass, each in about
#                         a second or less, with a plain `gcc -O2 -flto` build
#                         (GCC 12.2), DEST/lua, run as:
#                           cd DEST/testes && ../lua -e"_U=true" FILE
#   DEST/cflags.txt       the compile flags used for that verification
#   DEST/libs.txt         the link libraries (-lm -ldl)
#
# Build recipe (what the verification used):
#   cd DEST/src && for f in $(cat ../files.txt); do gcc -O2 -flto $(cat ../cflags.txt) -c $f; done
#   gcc -O2 -flto -o ../lua *.o $(cat ../libs.txt)
#
# Idempotent and safe to run several times at once: a complete DEST (DEST/src/lua.c
# exists) is reused as it is. Otherwise, holding an flock on DEST.lock, it prepares the
# fixture in a private directory beside DEST and renames it into place, so DEST is either
# absent or complete.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 DEST" >&2
    exit 2
fi
DEST=${1%/}
complete() { [ -f "$DEST/src/lua.c" ]; }
if complete; then
    exit 0
fi
mkdir -p "$(dirname "$DEST")"
exec 9>"$DEST.lock"
flock 9
if complete; then
    exit 0   # another run prepared it while this one waited
fi

LUPA_VERSION=2.8
INNER=third-party/lua54

# The .c files of the `lua` interpreter, in the makefile's order (CORE_O minus
# ltests.o, AUX_O, LIB_O, LUA_O).
FILES="lapi.c lcode.c lctype.c ldebug.c ldo.c ldump.c lfunc.c lgc.c llex.c
lmem.c lobject.c lopcodes.c lparser.c lstate.c lstring.c ltable.c
ltm.c lundump.c lvm.c lzio.c
lauxlib.c
lbaselib.c ldblib.c liolib.c lmathlib.c loslib.c ltablib.c lstrlib.c
lutf8lib.c loadlib.c lcorolib.c linit.c
lua.c"

# testes/ files verified to pass with the plain build above (GCC 12.2, -O2
# -flto, 2 cores), each in under 1 s, run from testes/ as
#   ../lua -e"_U=true" FILE
# all.lua in user mode (_U) runs the whole suite in soft/portable mode (~1 s).
# Left out: api.lua and code.lua (skip everything without ltests' T), helper
# modules bwcoercion.lua and tracegc.lua, attrib.lua big.lua files.lua
# main.lua (fail when run alone with only _U set: they need all.lua's
# _soft/_port), constructs.lua (passes, 2.5-5 s), errors.lua (passes, ~8.5 s)
# and heavy.lua (minutes).
PASSING="all.lua bitwise.lua calls.lua closure.lua coroutine.lua cstack.lua
db.lua events.lua gc.lua gengc.lua goto.lua literals.lua locals.lua math.lua
nextvar.lua pm.lua sort.lua strings.lua tpack.lua utf8.lua vararg.lua
verybig.lua"

CFLAGS="-std=c99 -DLUA_USE_LINUX"
LIBS="-lm -ldl"

# Beside DEST, so that the final rename stays on one file system.
TMP=$(mktemp -d "$DEST.tmp.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

PIP=${PIP:-}
if [ -z "$PIP" ]; then
    if command -v pip3 >/dev/null 2>&1; then PIP=pip3
    elif command -v pip >/dev/null 2>&1; then PIP=pip
    else PIP="python3 -m pip"; fi
fi
# LUPA_NO_LUAJIT: lupa's setup.py otherwise builds two bundled LuaJITs just to
# prepare metadata (80 s instead of ~15 s).
LUPA_NO_LUAJIT=true $PIP download --quiet --no-deps --no-binary :all: "lupa==$LUPA_VERSION" -d "$TMP" >&2
SDIST=$(ls "$TMP"/lupa-*.tar.gz | head -n1)
tar -xzf "$SDIST" -C "$TMP"
SRC="$TMP/lupa-$LUPA_VERSION/$INNER"
if [ ! -f "$SRC/lua.c" ]; then
    echo "fetch-lua.sh: $INNER/lua.c not found in $SDIST" >&2
    exit 1
fi

# Build everything in a staging directory, then rename it into place, so that an
# interrupted run never leaves a DEST/src/lua.c that would make the next run a
# no-op on partial contents.
STAGE="$TMP/stage"
mkdir -p "$STAGE/src"
cp "$SRC"/*.c "$SRC"/*.h "$STAGE/src/"
if [ -d "$SRC/testes" ]; then
    cp -R "$SRC/testes" "$STAGE/testes"
fi
for f in $FILES; do
    [ -f "$STAGE/src/$f" ] || { echo "fetch-lua.sh: missing $f" >&2; exit 1; }
    echo "$f"
done > "$STAGE/files.txt"
for f in $PASSING; do echo "$f"; done > "$STAGE/testes-pass.txt"
echo "$CFLAGS" > "$STAGE/cflags.txt"
echo "$LIBS" > "$STAGE/libs.txt"

# An incomplete DEST (interrupted by hand, or left by an older version of this script)
# goes; nothing else writes DEST while the lock is held.
rm -rf "$DEST"
mv -T "$STAGE" "$DEST"
