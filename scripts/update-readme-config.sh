#!/usr/bin/env bash
# Replaces the configuration reference in README.md (between the
# config:begin and config:end markers) with data/opsdeck.example.toml, and
# the console's key reference (keys:begin/keys:end) with .build/keys.md.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 - <<'PY'
import re
readme = open("README.md").read()
example = open("data/opsdeck.example.toml").read()
block = "<!-- config:begin -->\n```toml\n" + example + "```\n<!-- config:end -->"
updated, count = re.subn(r"<!-- config:begin -->.*?<!-- config:end -->", lambda _: block, readme, flags=re.S)
if count != 1:
    raise SystemExit("README.md: expected one config:begin/config:end block, found %d" % count)
keys = open(".build/keys.md").read()
block = "<!-- keys:begin -->\n" + keys + "<!-- keys:end -->"
updated, count = re.subn(r"<!-- keys:begin -->.*?<!-- keys:end -->", lambda _: block, updated, flags=re.S)
if count != 1:
    raise SystemExit("README.md: expected one keys:begin/keys:end block, found %d" % count)
open("README.md", "w").write(updated)
PY
