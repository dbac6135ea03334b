#!/usr/bin/env bash
# Renders an SVG (e.g. from `selfattention heatmap`) to a PNG with headless Chromium, at the SVG's own
# width × height, then checks the PNG: it exists, decodes, has the expected size and is not blank
# (many distinct colours, a share of non-white pixels). Needs python3 (standard library only).
#
# Usage: scripts/render-heatmap.sh SVG PNG
# Exit codes: 0 rendered and checked; 1 Chromium failed or the PNG is missing, broken or blank;
#             2 bad arguments or an SVG without width/height; 3 Chromium is not installed.
# CHROMIUM=/path/to/chromium overrides /usr/bin/chromium.
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 SVG PNG" >&2
    exit 2
fi

svg=$1
png=$2
chromium=${CHROMIUM:-/usr/bin/chromium}

if [[ ! -f $svg ]]; then
    echo "render-heatmap: no such file: $svg" >&2
    exit 2
fi

if [[ ! -x $chromium ]]; then
    echo "render-heatmap: Chromium not found at $chromium. Install it with:" >&2
    echo "    apt-get install -y chromium" >&2
    exit 3
fi

# The root element's width and height (px, unitless or "px"), and the file:// URL of the SVG.
read -r width height url < <(python3 - "$svg" <<'PY'
import math, pathlib, re, sys
import xml.etree.ElementTree as ET

path = pathlib.Path(sys.argv[1]).resolve()
root = ET.parse(path).getroot()
if root.tag != "{http://www.w3.org/2000/svg}svg":
    sys.exit(f"render-heatmap: {path}: root element is {root.tag}, not an SVG <svg>")
size = []
for name in ("width", "height"):
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(px)?\s*", root.get(name, ""))
    if not m:
        sys.exit(f"render-heatmap: {path}: <svg {name}=...> must be a length in px, got {root.get(name)!r}")
    size.append(math.ceil(float(m.group(1))))
print(size[0], size[1], path.as_uri())
PY
) || exit 2

png_dir=$(dirname -- "$png")
mkdir -p -- "$png_dir"
png_abs=$(cd -- "$png_dir" && pwd)/$(basename -- "$png")
rm -f -- "$png_abs"

profile=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf -- "$profile" "$log"' EXIT

if ! timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" --hide-scrollbars --force-device-scale-factor=1 \
        --window-size="$width,$height" --screenshot="$png_abs" "$url" >"$log" 2>&1; then
    echo "render-heatmap: Chromium failed; its output:" >&2
    cat "$log" >&2
    exit 1
fi

# Decode the PNG (zlib + the five scanline filters) and judge it.
python3 - "$png_abs" "$width" "$height" <<'PY'
import os, struct, sys, zlib

path, want_w, want_h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def fail(message):
    print(f"render-heatmap: {path}: {message}", file=sys.stderr)
    sys.exit(1)

if not os.path.isfile(path) or os.path.getsize(path) == 0:
    fail("Chromium wrote no PNG")
data = open(path, "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    fail("not a PNG")

pos, idat, header = 8, bytearray(), None
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        header = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
if header is None:
    fail("no IHDR chunk")
w, h, depth, colour, _, _, interlace = header
channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour)
if depth != 8 or channels is None or interlace != 0:
    fail(f"unsupported PNG layout (bit depth {depth}, colour type {colour}, interlace {interlace})")
if (w, h) != (want_w, want_h):
    fail(f"expected {want_w}x{want_h} px, got {w}x{h}")

raw = zlib.decompress(bytes(idat))
stride = w * channels
prev = bytearray(stride)
colours, non_white = set(), 0
for y in range(h):
    kind = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    if kind == 1:
        for i in range(channels, stride):
            line[i] = (line[i] + line[i - channels]) & 0xFF
    elif kind == 2:
        for i in range(stride):
            line[i] = (line[i] + prev[i]) & 0xFF
    elif kind == 3:
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
    elif kind == 4:
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
    elif kind != 0:
        fail(f"bad filter type {kind} in row {y}")
    for x in range(0, stride, channels):
        pixel = bytes(line[x:x + min(channels, 3)])
        colours.add(pixel)
        if any(v < 250 for v in pixel):
            non_white += 1
    prev = line

share = non_white / (w * h)
if len(colours) < 16 or share < 0.01:
    fail(f"looks blank: {len(colours)} distinct colours, {share:.1%} non-white pixels")
print(f"ok: {path}: {w}x{h} px, {len(data)} bytes, {len(colours)} distinct colours, {share:.1%} non-white pixels")
PY
