"""Text from the network made safe to show: nothing a feed or a page sent can drive the
operator's terminal or forge a log line.

A title, GUID, author, category, URL or a redirect's `Location` can carry escape sequences
(`ESC ] 0;text BEL` retitles the terminal window, `ESC [2J` clears the screen), other C0 and
C1 controls, DEL, and bidi overrides that reorder what is shown. Every CLI table and every log
line passes what it prints through `one_line` (or `block` for multi-line text); what is stored
keeps exactly what was received.
"""

from __future__ import annotations

import re

# Whole escape sequences go, so no "]0;pwned" or "[2J" remains: CSI, the string sequences
# (OSC, DCS, SOS, PM, APC) up to their BEL or ST, and two-character escapes.
_SEQUENCE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]"
                       r"|[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)"
                       r"|[ -/]*[0-~])")
# C0 but tab and newline, DEL, C1, and the bidi embeddings, overrides and isolates.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAK = re.compile("\r\n|[\x85\u2028\u2029]")  # what a block turns into a newline
_BLOCK_UNSAFE = re.compile(f"{_CONTROL.pattern}|{_LINE_BREAK.pattern}")
_LINE_UNSAFE = re.compile(f"{_BLOCK_UNSAFE.pattern}|[\t\n]")


def one_line(value: object) -> str:
    """For a table cell, a status line or a log line: line breaks and tabs become spaces,
    escape sequences and other controls are dropped."""
    text = value if isinstance(value, str) else str(value)
    if _LINE_UNSAFE.search(text) is None:
        return text
    text = re.sub("[\t\n\r\x0b\x0c]", " ", _LINE_BREAK.sub(" ", _SEQUENCE.sub("", text)))
    return _CONTROL.sub("", text)


def block(value: object) -> str:
    """For multi-line text (an article's body, a diff, a traceback): newlines and tabs stay,
    other line breaks become newlines, escape sequences and other controls are dropped (a bare
    carriage return too: it would let a line overwrite what it seems to say)."""
    text = value if isinstance(value, str) else str(value)
    if _BLOCK_UNSAFE.search(text) is None:
        return text
    return _CONTROL.sub("", _LINE_BREAK.sub("\n", _SEQUENCE.sub("", text)))
