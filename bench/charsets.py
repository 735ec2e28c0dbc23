"""Unlabelled page decoding: our sniffer against charset-normalizer on the shared corpus.

`python -m bench.charsets [--shared ../shared]`: every real page under corpus/pages, its
charset labels removed, re-encoded in windows-1251, KOI8-U and ISO-8859-5 (Cyrillic pages) or
cp1252 (the others); a guess counts when it decodes the bytes to the same text.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from charset_normalizer import from_bytes

from aggregator.encoding import decode_html, sniff_charset

_LABEL = re.compile(r"<meta[^>]+charset[^>]*>", re.IGNORECASE)
CYRILLIC = ("windows-1251", "koi8-u", "iso-8859-5")


def normalizer(body: bytes) -> str | None:
    best = from_bytes(body).best()
    return best.encoding if best else None


def trials(shared: Path):
    """(page name, true encoding, unlabelled bytes) for every page and encoding."""
    for path in sorted((shared / "corpus" / "pages").glob("**/*.html")):
        text = _LABEL.sub("", decode_html(path.read_bytes())[0])
        cyrillic = re.search("[\u0400-\u04ff]", text) is not None
        for encoding in CYRILLIC if cyrillic else ("cp1252",):
            yield path.name, encoding, text.encode(encoding, errors="xmlcharrefreplace")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).parents[2] / "shared")
    args = parser.parse_args()
    detectors = {"ours (aggregator.encoding)": sniff_charset, "charset-normalizer": normalizer}
    right = dict.fromkeys(detectors, 0)
    seconds = dict.fromkeys(detectors, 0.0)
    total = 0
    for _name, encoding, body in trials(args.shared):
        total += 1
        for label, detect in detectors.items():
            started = time.perf_counter()
            guess = detect(body)
            seconds[label] += time.perf_counter() - started
            right[label] += guess is not None and \
                body.decode(guess, errors="replace") == body.decode(encoding)
    for label in detectors:
        print(f"{label:28} {right[label]:4d} / {total} right, "
              f"{1000 * seconds[label] / max(total, 1):6.1f} ms a page")


if __name__ == "__main__":
    main()
