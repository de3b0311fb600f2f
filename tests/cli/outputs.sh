#!/bin/sh
# Outputs behave like cp and curl -o (docs/files.md), inputs take '-', and
# faults (file-size limit, signals, killed runs) leave nothing behind.
# Never touches /dev: FIFOs and device nodes are made in the temp folder.
set -u
N=${NNINIT:-build/nninit}
case $N in /*) ;; *) N=$(pwd)/$N ;; esac
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cd "$T" || exit 1

# An existing file keeps its mode (it became 0644).
"$N" gen he_normal --shape 3 -o a.npy || fail "first write"
chmod 600 a.npy
"$N" gen he_normal --shape 4 -o a.npy || fail "rewrite"
[ "$(stat -c %a a.npy)" = 600 ] || fail "mode not kept: $(stat -c %a a.npy)"
# As root, its owner and group too (they became root's).
if [ "$(id -u)" = 0 ]; then
    chown 1234:5678 a.npy
    "$N" gen he_normal --shape 4 -o a.npy || fail "rewrite as root"
    [ "$(stat -c %u:%g a.npy)" = 1234:5678 ] || fail "owner not kept: $(stat -c %u:%g a.npy)"
fi

# A symlink is followed: its target is replaced, the link stays a link.
ln -s a.npy link.npy
"$N" gen he_normal --shape 5 -o link.npy || fail "write through a symlink"
[ -L link.npy ] || fail "the symlink was replaced by a file"
"$N" inspect a.npy --brief | grep -q '\[5\]' || fail "the target was not written"
ln -s new.npy dangling.npy
"$N" gen he_normal --shape 2 -o dangling.npy || fail "dangling symlink"
[ -L dangling.npy ] && [ -f new.npy ] || fail "a dangling symlink's target should be created"

# '-' is standard output (no file named '-'), and inputs take '-' too.
"$N" gen he_normal --shape 6 -o - > out.npy || fail "-o -"
[ -e ./- ] && fail "a file named '-' was created"
"$N" inspect - --brief < out.npy | grep -q '\[6\]' || fail "inspect -"
# ... and say "-", not the name of the copy stdin is spooled to (a .npy
# from stdin was tensor 'nninit-stdin.QLkLuX', errors named /tmp/nninit-stdin.*)
"$N" inspect - --brief < out.npy | grep -q '^-  F32 \[6\]' || fail "inspect - tensor name: $("$N" inspect - --brief < out.npy)"
head -c 100 out.npy | "$N" inspect - 2>err; [ $? -eq 1 ] || fail "inspect - of a cut file: exit"
grep -q '^nninit: -: file ends inside the .npy header' err || fail "inspect - error names: $(cat err)"
echo '{"tensors": [{"name": "w", "shape": [3, 2], "init": "ones"}]}' | "$N" model --spec - --list |
    grep -q '^w	' || fail "--spec -"
"$N" model --keras - --list < "$OLDPWD/tests/fixtures/keras/cnn_keras3.json" | grep -q kernel || fail "--keras -"
# The output's metadata names the input '-', not the private copy standard input was spooled to.
"$N" model --keras - -o stdin_k.safetensors < "$OLDPWD/tests/fixtures/keras/cnn_keras3.json" || fail "--keras - -o"
grep -q '"nninit.description":"-"' stdin_k.safetensors || fail "--keras - description: $(grep -ao 'nninit.description":"[^"]*"' stdin_k.safetensors)"

# ... but '-' cannot take several files: shards or an npy folder to '-' are
# refused before the work (they made '--00001-of-00003.safetensors' and
# '-.index.json', or a folder '-', with exit 0 and nothing on stdout).
R='Sequential(Linear(20, 16), ReLU(), Linear(16, 4))'
for f in "--max-shard-size 300" "--format npy-dir"; do
    # shellcheck disable=SC2086
    "$N" model --torch "$R" $f -o - >so 2>err; [ $? -eq 2 ] || fail "-o - $f: exit"
    grep -q "^nninit: -o -: standard output takes one file" err || fail "-o - $f: $(cat err)"
    [ -s so ] || [ -n "$(ls -A | grep '^-')" ] && fail "-o - $f wrote: $(ls -A | grep '^-')"
done

# A FIFO is written in place: the reader gets the bytes, the FIFO stays.
mkfifo fifo
timeout 20 cat fifo > from_fifo &  # a FIFO replaced by a file would leave cat waiting
"$N" gen he_normal --shape 6 --seed 1 -o fifo || fail "write to a FIFO"
wait
[ -p fifo ] || fail "the FIFO was replaced"
"$N" gen he_normal --shape 6 --seed 1 -o - | cmp -s - from_fifo || fail "the FIFO reader got other bytes"

# A device node (as root) is written in place, never replaced by a file.
if [ "$(id -u)" = 0 ] && mknod null c 1 3 2>/dev/null; then
    "$N" gen he_normal --shape 6 -o null || fail "write to a device node"
    [ -c null ] || fail "the device node was replaced by a regular file"
fi

# An existing folder as -o is refused before the work.
mkdir folder
"$N" gen he_normal --shape 6 -o folder 2>err; [ $? -eq 1 ] || fail "folder as -o: exit"
grep -q "is a folder" err || fail "folder as -o: $(cat err)"

# Size against free space before the work (4 TB: it started drawing before).
"$N" gen he_normal --shape 1000000,1000000 -o huge.npy 2>err; [ $? -eq 1 ] || fail "4 TB output: exit"
grep -q "needs 4e+03 GB but its file system has" err || fail "free space: $(cat err)"
[ -e huge.npy ] && fail "4 TB output created"

# RLIMIT_FSIZE: a write error (exit 1, one line), no temporary left; before,
# SIGXFSZ killed the run and left '.big.npy.tmp.PID.0'.
(ulimit -f 4; "$N" gen he_normal --shape 100,100 -o big.npy 2>err); rc=$?
[ $rc -eq 1 ] || fail "file-size limit: exit $rc"
grep -q "File too large" err || fail "file-size limit message: $(cat err)"
[ "$(ls -A | grep -c '\.tmp\.')" -eq 0 ] || fail "temporary left: $(ls -A)"

# Signals during a write: temporaries removed, one line, exit 128 + signal.
# An interposed fwrite (built here) sends the signal midway through the write.
cat > shim.c <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static size_t seen;
/* model writes put tensor bytes at their offsets (pwrite): the same disk */
ssize_t pwrite(int fd, const void *p, size_t n, off_t off)
{
    ssize_t (*real)(int, const void *, size_t, off_t) =
        (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
    const char *full = getenv("SHIM_ENOSPC_AFTER");
    if (full && seen + n > (size_t)atol(full)) {
        errno = ENOSPC;
        return -1;
    }
    seen += n;
    return real(fd, p, n, off);
}
size_t fwrite(const void *p, size_t size, size_t n, FILE *f)
{
    size_t (*real)(const void *, size_t, size_t, FILE *) =
        (size_t (*)(const void *, size_t, size_t, FILE *))dlsym(RTLD_NEXT, "fwrite");
    const char *sig = getenv("SHIM_SIGNAL"), *full = getenv("SHIM_ENOSPC_AFTER");
    if (f != stdout && f != stderr && sig && seen + size * n > 1000) {
        kill(getpid(), atoi(sig));
        for (;;)
            pause();
    }
    if (f != stdout && f != stderr && full && seen + size * n > (size_t)atol(full)) {
        errno = ENOSPC; /* the disk fills midway */
        return 0;
    }
    seen += size * n;
    return real(p, size, n, f);
}
EOF
if cc -shared -fPIC -o shim.so shim.c -ldl 2>/dev/null; then
    for s in 2:130 15:143 1:129; do
        SHIM_SIGNAL=${s%:*} LD_PRELOAD=./shim.so "$N" gen he_normal --shape 100,100 -o sig.npy 2>err; rc=$?
        [ $rc -eq "${s#*:}" ] || fail "signal ${s%:*}: exit $rc"
        [ "$(wc -l < err)" -eq 1 ] && grep -q "stopped by SIG" err || fail "signal ${s%:*}: $(cat err)"
        [ "$(ls -A | grep -c '\.tmp\.')" -eq 0 ] || fail "signal ${s%:*}: temporary left: $(ls -A)"
        [ -e sig.npy ] && fail "signal ${s%:*}: output created"
    done
fi

# Multi-file outputs are all-or-nothing: a disk that fills during the second
# shard (or the second .npy) leaves every old file as it was, no new file and
# no temporary (before: new shard 1 beside old shards, and an orphan shard on
# a first write), and the message says nothing was replaced.
if [ -f shim.so ]; then
    R='Sequential(Linear(20, 16), ReLU(), Linear(16, 4))'
    mkdir sh fresh
    "$N" model --torch "$R" --max-shard-size 300 --seed 1 -o sh/model.safetensors || fail "sharded write"
    ls sh | grep -q 'model-00003-of-00003' || fail "expected 3 shards: $(ls sh)"
    cksum sh/* > sums
    SHIM_ENOSPC_AFTER=3000 LD_PRELOAD=./shim.so "$N" model --torch "$R" --max-shard-size 300 --seed 2 \
        -o sh/model.safetensors 2>err; rc=$?
    [ $rc -eq 1 ] || fail "shard write on a full disk: exit $rc"
    grep -q 'nothing was replaced' err || fail "shard failure message: $(cat err)"
    cksum sh/* | cmp -s - sums || fail "a failed sharded write changed files: $(ls -A sh)"
    [ "$(ls -A sh | grep -c tmp)" -eq 0 ] || fail "temporaries left: $(ls -A sh)"
    SHIM_ENOSPC_AFTER=3000 LD_PRELOAD=./shim.so "$N" model --torch "$R" --max-shard-size 300 \
        -o fresh/model.safetensors 2>/dev/null && fail "first sharded write on a full disk succeeded"
    [ -z "$(ls -A fresh)" ] || fail "a failed first write left files: $(ls -A fresh)"
    # fewer shards now: the old third shard goes, the rest is the new model
    "$N" model --torch "$R" --max-shard-size 1300 -o sh/model.safetensors || fail "re-shard"
    [ -e sh/model-00003-of-00003.safetensors ] && fail "a shard of the old model was left: $(ls sh)"
    "$N" inspect sh/model.safetensors.index.json --brief >/dev/null || fail "re-sharded index"
    "$N" model --torch "$R" --format npy-dir -o npys || fail "npy-dir"
    cksum npys/* > sums
    SHIM_ENOSPC_AFTER=1500 LD_PRELOAD=./shim.so "$N" model --torch "$R" --seed 9 --format npy-dir -o npys 2>err
    [ $? -eq 1 ] || fail "npy-dir on a full disk: exit"
    cksum npys/* | cmp -s - sums || fail "a failed npy-dir write changed files: $(ls -A npys)"
    [ "$(ls -A npys | grep -c tmp)" -eq 0 ] || fail "npy-dir temporaries left: $(ls -A npys)"
    SHIM_ENOSPC_AFTER=1500 LD_PRELOAD=./shim.so "$N" model --torch "$R" --format npy-dir -o newdir 2>/dev/null
    [ -e newdir ] && fail "a failed first npy-dir write left the folder: $(ls -A newdir)"
    # '/' in names makes subfolders: a failed write removes those it created,
    # in a new folder and in an existing one (they were left behind, empty)
    echo '{"tensors": [{"name": "enc/l1/w", "shape": [200], "init": "ones"},
                       {"name": "enc/l2/w", "shape": [200], "init": "ones"}]}' > nested.json
    SHIM_ENOSPC_AFTER=1000 LD_PRELOAD=./shim.so "$N" model --spec nested.json --format npy-dir -o nest 2>/dev/null &&
        fail "nested npy-dir on a full disk succeeded"
    [ -e nest ] && fail "a failed nested npy-dir write left: $(find nest)"
    SHIM_ENOSPC_AFTER=1000 LD_PRELOAD=./shim.so "$N" model --spec nested.json --format npy-dir -o npys 2>/dev/null
    [ -e npys/enc ] && fail "a failed nested npy-dir write left subfolders: $(find npys)"
    cksum npys/* | cmp -s - sums || fail "a failed nested npy-dir write changed files: $(ls -A npys)"
    # a signal during such a write: the temporaries in the subfolders and the
    # folders the write made go too (they stayed: '0 temporary files removed')
    mkdir keep && touch keep/k.npy
    SHIM_SIGNAL=15 LD_PRELOAD=./shim.so "$N" model --spec nested.json --format npy-dir -o keep 2>err
    [ $? -eq 143 ] && grep -q 'stopped by SIGTERM; 2 temporary files removed' err || fail "npy-dir signal: $(cat err)"
    [ "$(cd keep && find . | sort | tr '\n' ' ')" = ". ./k.npy " ] || fail "npy-dir signal left: $(find keep)"
    SHIM_SIGNAL=15 LD_PRELOAD=./shim.so "$N" model --spec nested.json --format npy-dir -o signew 2>/dev/null
    [ -e signew ] && fail "npy-dir signal left the new folder: $(find signew)"
fi

# A killed run's temporary is reported, and 'nninit clean' removes it (only it).
sh -c 'exit 0' & wait $!; dead=$!
touch ".c.npy.tmp.$dead.0" ".c.npy.tmp.$$.0"
"$N" gen he_normal --shape 2 -o c.npy 2>err || fail "write beside a stale temporary"
grep -q "c.npy.tmp.$dead.0 is left over from run $dead" err || fail "stale temporary not reported: $(cat err)"
"$N" clean . > cleaned || fail "nninit clean"
[ -e ".c.npy.tmp.$dead.0" ] && fail "clean left the dead run's temporary"
[ -e ".c.npy.tmp.$$.0" ] || fail "clean removed a live run's temporary"
# Not into subfolders without -r; with -r (given after the folder) into them, never through a link.
mkdir -p sub/deeper linked && touch "sub/deeper/.w.npy.tmp.$dead.0" "linked/.l.npy.tmp.$dead.0" && ln -s ../linked sub/link
"$N" clean . > cleaned || fail "nninit clean (no -r)"
[ -e "sub/deeper/.w.npy.tmp.$dead.0" ] || fail "clean without -r went into a subfolder"
"$N" clean sub -r > cleaned || fail "nninit clean -r"
[ -e "sub/deeper/.w.npy.tmp.$dead.0" ] && fail "clean -r left a subfolder's dead temporary"
grep -q "removed sub/deeper/.w.npy.tmp.$dead.0" cleaned || fail "clean -r did not print: $(cat cleaned)"
[ -e "linked/.l.npy.tmp.$dead.0" ] || fail "clean -r followed a link"
"$N" clean -r nosuchdir 2>err; [ $? -eq 1 ] && grep -q "nosuchdir: cannot read the folder" err || fail "clean -r missing folder: $(cat err)"

# A safetensors file whose header is 123 bytes starts with '{' like an index
# file; it is still read as safetensors.
printf '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"__metadata__":{"k":"012345678901234567890123456789012345678901234"}}' > h.json
[ "$(wc -c < h.json)" -eq 123 ] || fail "fixture header is $(wc -c < h.json) bytes"
{ printf '{\000\000\000\000\000\000\000'; cat h.json; printf '\000\000\200\077'; } > h123.safetensors
"$N" inspect h123.safetensors --brief > out 2>err || fail "123-byte header: $(cat err)"
grep -q 'safetensors, 1 tensors' out || fail "123-byte header: $(cat out)"
exit 0
