"""Where a table entry or key sits in the TOML text, and how deep its values nest.

tomllib returns plain dicts without positions, so the table reader finds lines here for
its messages; the nesting scan runs before tomllib, whose recursive descent would fail
with RecursionError (not a TableError) on a value nested thousands of levels deep.
"""

from __future__ import annotations

import re

__all__ = ["MAX_NESTING", "Locator", "too_deep"]

#: a real SOP table nests two levels (an array of strings inside a [[langkah]]); far deeper
#: is an attack on the parser, refused before it runs
MAX_NESTING = 32

_SECTION_RE = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")


class Locator:
    """Finds the line of a table entry or key by scanning the text.

    tomllib returns plain dicts without positions, so semantic errors find their line here.
    It is best effort: a key written as a dotted key or inside a multi-line value falls back
    to the line of its section, which is still close enough to find the mistake.
    """

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        #: (line number, is array header, dotted name)
        self.sections: list[tuple[int, bool, str]] = []
        for number, line in enumerate(self.lines, start=1):
            match = _SECTION_RE.match(line)
            if match:
                name = re.sub(r"\s*\.\s*", ".", match.group(2)).replace('"', "")
                self.sections.append((number, match.group(1) == "[[", name))

    def _span(self, name: str, index: int | None) -> tuple[int, int] | None:
        """Lines (first, last) of a section; ``index`` picks the n-th ``[[name]]``."""
        starts = [
            i
            for i, (_, is_array, sec) in enumerate(self.sections)
            if sec == name and (is_array == (index is not None))
        ]
        if index is not None:
            if index >= len(starts):
                return None
            start_i = starts[index]
        elif starts:
            start_i = starts[0]
        else:
            return None
        first = self.sections[start_i][0]
        last = len(self.lines)
        for line_no, _, sec in self.sections[start_i + 1 :]:
            if not sec.startswith(name + "."):
                last = line_no - 1
                break
        return first, last

    def _key_in(self, key: str, first: int, last: int, sub: str | None = None) -> int | None:
        pattern = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
        own_end = last
        for line_no, _, _sec in self.sections:
            if first < line_no <= last:
                own_end = line_no - 1
                break
        if sub is None:
            for number in range(first, own_end + 1):
                if pattern.match(self.lines[number - 1]):
                    return number
            return None
        for line_no, _, sec in self.sections:
            if first < line_no <= last and sec.endswith("." + sub):
                found = self._key_in(key, line_no, last)
                return found if found is not None else line_no
        return None

    def top(self, key: str) -> int | None:
        end = self.sections[0][0] - 1 if self.sections else len(self.lines)
        return self._key_in(key, 1, end)

    def section(
        self, name: str, index: int | None = None, key: str | None = None, sub: str | None = None
    ) -> int | None:
        """Line of ``[name]`` (or the n-th ``[[name]]``), of a key in it, or in a subtable."""
        span = self._span(name, index)
        if span is None:
            return self.top(name) if index is None else None
        first, last = span
        if key is None:
            return first
        if sub is not None:
            found = self._key_in(key, first, last, sub=sub)
            if found is not None:
                return found
            found = self._key_in(sub, first, last)
            return found if found is not None else first
        found = self._key_in(key, first, last)
        return found if found is not None else first


def too_deep(text: str, limit: int = MAX_NESTING) -> int | None:
    """The line where arrays and inline tables nest deeper than ``limit``, else None.

    Brackets inside strings and comments do not count; a ``[[header]]`` counts as two,
    as it opens and closes on its own line.
    """
    depth = 0
    line = 1
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        if char == "\n":
            line += 1
        elif char == "#":
            end = text.find("\n", index)
            index = length if end < 0 else end
            continue
        elif char in "\"'":
            quote = text[index : index + 3] if text.startswith(char * 3, index) else char
            index += len(quote)
            while index < length and not text.startswith(quote, index):
                if text[index] == "\\" and char == '"':
                    index += 1  # an escape: the next character cannot end the string
                if index < length and text[index] == "\n":
                    if len(quote) == 1:
                        break  # an unterminated string: tomllib reports it
                    line += 1
                index += 1
            else:
                index += len(quote)
            continue
        elif char in "[{":
            depth += 1
            if depth > limit:
                return line
        elif char in "]}":
            depth = max(0, depth - 1)
        index += 1
    return None
