#!/usr/bin/env python3
"""Writes every hex frame under DATA_DIR (*.hex: one frame per line, '#' comments, a line
may start with 'name:' or a direction tag like 'ecr>' / 'pt>') as a raw file into CORPUS_DIR."""
import hashlib
import pathlib
import re
import sys

data_dir, corpus_dir = map(pathlib.Path, sys.argv[1:3])
corpus_dir.mkdir(parents=True, exist_ok=True)
count = 0
for path in sorted(data_dir.rglob("*.hex")):
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0]
        line = re.sub(r"^\s*[A-Za-z_][\w.-]*\s*[:>]\s*", "", line)
        digits = re.sub(r"[\s:-]", "", line)
        if not digits or len(digits) % 2 or not re.fullmatch(r"[0-9a-fA-F]+", digits):
            continue
        raw = bytes.fromhex(digits)
        (corpus_dir / hashlib.sha1(raw).hexdigest()).write_bytes(raw)
        count += 1
# JSON examples (ERP messages) go in as they are: seeds for the text decoders.
for path in sorted(data_dir.rglob("*.json")):
    raw = path.read_bytes()
    (corpus_dir / hashlib.sha1(raw).hexdigest()).write_bytes(raw)
    count += 1
print(f"hex_to_corpus: {count} seeds from {data_dir}")
