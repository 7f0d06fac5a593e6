"""The printed page of a report: its running header.

A printed report says on every A4 page whose it is and which run it came from. Chromium (131 and later) draws CSS
page-margin boxes (``@page { @top-left { content: "…" } }``), but a margin box cannot copy text from the page:
Chromium has no ``string-set``, and ``attr()`` there reads nothing of the document. (A custom property set on
``<html>`` does reach the margin boxes, as tried in Chromium 156, but its value would need the same CSS-string
escaping, inside an HTML attribute besides.) So the archive writes the text itself, as one small ``@page`` rule per
page, after the static print rules of ``templates/digiops/print.css`` (A4, margins, page numbers, page breaks).

The client's name is client text: it becomes a CSS string in a ``<style>`` element, so every character that could end
the string, the rule or the element (quotes, backslash, line breaks, ``<``, ``>``, ``&``, control characters) is
written as a CSS escape.

Example:
    >>> print(print_header_css("示例零售", "20261202T173149-418106-f7975e"))
    @page { @top-left { content: "示例零售 · 20261202T173149-418106-f7975e"; font-size: 8pt; color: #555; } }
"""

from __future__ import annotations

__all__ = ["css_string", "print_header_css"]

# Written as escapes: what ends a CSS string or line, starts an escape, or could close the <style> element.
_UNSAFE = frozenset('"\'\\<>&') | frozenset("\u2028\u2029\ufeff")


def _unsafe(char: str) -> bool:
    code = ord(char)
    return char in _UNSAFE or code < 0x20 or 0x7F <= code < 0xA0 or 0xD800 <= code < 0xE000


def css_string(text: str) -> str:
    r"""``text`` as a double-quoted CSS string that cannot leave its string, rule or ``<style>`` element.

    Unsafe characters become hex escapes, each closed by one space (``\3c ``), which CSS consumes with the escape
    (it would also swallow a real space that followed a bare escape); NUL and lone surrogates, which CSS reads as
    U+FFFD anyway, become U+FFFD; a line break becomes a space, as a one-line header shows it.

    >>> print(css_string('A "B" \\ </style><script>'))
    "A \22 B\22  \5c  \3c /style\3e \3c script\3e "
    >>> css_string("one\ntwo")
    '"one two"'
    """
    out = []
    for char in " ".join(str(text).splitlines()):
        if not _unsafe(char):
            out.append(char)
        elif char == "\0" or 0xD800 <= ord(char) < 0xE000:
            out.append("\ufffd")
        else:
            out.append(f"\\{ord(char):x} ")
    return '"' + "".join(out) + '"'


def print_header_css(client: str, run_id: str) -> str:
    """The ``@page`` rule that prints ``client · run_id`` at the top left of every page of a report.

    Args:
        client: the client's name as the report's header shows it (``meta["client"]``).
        run_id: the run's id (``meta["run_id"]``).

    Returns:
        One line of CSS for the page's ``<style>`` element, after ``print.css``; an empty string when both are empty.
    """
    text = " · ".join(part.strip() for part in (str(client or ""), str(run_id or "")) if part.strip())
    if not text:
        return ""
    return f"@page {{ @top-left {{ content: {css_string(text)}; font-size: 8pt; color: #555; }} }}"
