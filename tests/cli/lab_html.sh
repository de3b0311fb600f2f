#!/bin/sh
# nninit lab: --list, --only, the rerun line, and report.html from a --quick
# run rendered in headless Chromium (Debian's chromium, no network, a fresh
# profile): every figure lab.json names is in the page, laid out with a
# non-zero size, and every panel draws at least one non-empty series.
# report.html itself must fetch nothing: no src/href/url(), no http(s) but
# the SVG namespace.
set -u
N=${NNINIT:-build/nninit}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# --list names every experiment once, --only refuses an unknown one
"$N" lab --list >"$T/list" || fail "lab --list"
[ "$(wc -l <"$T/list")" -ge 9 ] || fail "lab --list: $(cat "$T/list")"
grep -q '^pitfall-zeros ' "$T/list" || fail "lab --list lacks pitfall-zeros"
grep -q '^deep-cnn ' "$T/list" || fail "lab --list lacks deep-cnn"
"$N" lab --only symmetry,nosuch --no-files 2>"$T/err"; [ $? -eq 2 ] || fail "--only nosuch exit"
[ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "no experiment 'nosuch'" "$T/err" || fail "--only message: $(cat "$T/err")"

# --out: created if missing, but not its parents (as -o and --log); a missing parent or a
# file of that name is refused in one line before any work (exit 1), and nothing is made
"$N" lab --only symmetry --out "$T/no/such" --quiet 2>"$T/err"; [ $? -eq 1 ] || fail "--out missing parent exit"
[ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "^nninit: --out '$T/no/such': folder '$T/no' is not writable (No such file or directory); give a path in an existing, writable folder" "$T/err" ||
    fail "--out missing parent message: $(cat "$T/err")"
[ -e "$T/no" ] && fail "--out missing parent: a folder was made"
: >"$T/afile"
"$N" lab --only symmetry --out "$T/afile" --quiet 2>"$T/err"; [ $? -eq 1 ] || fail "--out a file exit"
[ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "exists and is not a folder; give a folder" "$T/err" &&
    ! grep -q "confirmed" "$T/err" || fail "--out a file message (after the work?): $(cat "$T/err")"
[ -s "$T/afile" ] && fail "--out a file: the file changed"
"$N" lab --only symmetry --out "$T/new/" --quiet 2>"$T/err" && [ -s "$T/new/lab.json" ] ||
    fail "--out new folder with a trailing slash: $(cat "$T/err")"

# --only runs just that experiment; its rerun line repeats every setting
"$N" lab --only symmetry --seed 7 --out "$T/one" --quiet 2>"$T/err" || fail "--only symmetry: $(cat "$T/err")"
grep -q '"name": "symmetry"' "$T/one/lab.json" || fail "symmetry section"
grep -q '"name": "signal"' "$T/one/lab.json" && fail "--only ran signal too"
grep -q 'nninit lab --seed 7 --epochs 3 --depth 50 --width 256 --threads [0-9]* --only symmetry' "$T/one/lab.json" ||
    fail "rerun line: $(grep rerun "$T/one/lab.json")"

if ! command -v chromium >/dev/null 2>&1; then
    fail "chromium is not installed (apt-get install chromium: the README's first command installs it)"
fi

"$N" lab --quick --threads 2 --out "$T/r" --quiet 2>"$T/err" || fail "lab --quick: $(cat "$T/err")"
R="$T/r/report.html"
[ -s "$R" ] || fail "no report.html"
# self-contained: nothing to fetch
grep -qiE '(src|href)=|url\(|<link|<script|<img' "$R" && fail "report.html refers to something outside it"
[ "$(grep -o 'https\?://[^"]*' "$R" | grep -vc '^http://www.w3.org/2000/svg$')" -eq 0 ] ||
    fail "report.html names a URL: $(grep -o 'https\?://[^"]*' "$R" | sort -u | head -3)"
n_json=$(grep -c '"type": "figure"' "$T/r/lab.json")
n_svg=$(ls "$T/r"/*.svg | wc -l)
[ "$n_json" -ge 1 ] && [ "$n_json" -eq "$n_svg" ] || fail "figures: $n_json in lab.json, $n_svg SVG files"
if grep -q '"data": true' "$T/r/lab.json"; then
    # every experiment but symmetry draws a figure named after it (and may draw more)
    for name in $(awk '{print $1}' "$T/list"); do
        [ "$name" = symmetry ] || [ -s "$T/r/$name.svg" ] ||
            fail "with data every experiment but symmetry draws a figure: none for $name ($n_json in all)"
    done
fi

# the check runs in the browser on a copy with a script appended: per
# figure its laid-out size, its panels, and per panel the series whose
# bounding box is non-empty (a line with extent or a marker)
sed 's#</body>#<script>\
var out = [];\
document.querySelectorAll("figure.chart").forEach(function (f) {\
  var svg = f.querySelector("svg.nninit-plot"), r = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};\
  var panels = svg ? svg.querySelectorAll("g.panel") : [], good = 0;\
  panels.forEach(function (p) {\
    var drawn = 0;\
    p.querySelectorAll("g.series").forEach(function (s) {\
      var b = s.getBBox(); if (s.childElementCount > 0 \&\& (b.width > 0 || b.height > 0)) drawn++;\
    });\
    if (drawn > 0) good++;\
  });\
  out.push(f.id + " " + Math.round(r.width) + " " + Math.round(r.height) + " " + panels.length + " " + good);\
});\
document.body.insertAdjacentHTML("beforeend", "<pre id=\\"check\\">" + out.join("\\n") + "</pre>");\
</script></body>#' "$R" >"$T/check.html"
timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$T/profile" \
    --dump-dom "file://$T/check.html" >"$T/dom" 2>"$T/chromium.log" || fail "chromium: $(tail -3 "$T/chromium.log")"
sed -n '/<pre id="check">/,/<\/pre>/p' "$T/dom" | sed 's#<pre id="check">##; s#</pre>.*##' | grep . >"$T/figs"
[ "$(wc -l <"$T/figs")" -eq "$n_json" ] || fail "browser saw $(wc -l <"$T/figs") figures, lab.json has $n_json"
while read -r id w h panels good; do
    [ "$w" -gt 100 ] && [ "$h" -gt 100 ] || fail "$id laid out at ${w}x${h}"
    [ "$panels" -ge 1 ] && [ "$good" -eq "$panels" ] || fail "$id: $good of $panels panels draw data"
done <"$T/figs"
exit 0
