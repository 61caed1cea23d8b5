#!/usr/bin/env python3
"""Tidies the mdoc page swift-argument-parser's generate-manual writes, so groff -ww renders it without warnings.

The help texts carry blank lines between paragraphs and examples indented by spaces; mdoc wants `.Pp` for a
paragraph break and a literal display for indented lines. Reads the page on stdin, writes the tidy page on stdout.
"""
import re
import sys

# The generator writes a leading space of an indented line as "\& " when the line follows a macro.
LEADING = re.compile(r'^(?:\\& ?|\s)+')


def indented(line):
    return line.startswith(" ") or line.startswith("\\& ")


def tidy(lines):
    out = []
    in_display = False
    for line in lines:
        if indented(line) and line.strip(" \\&"):
            if not in_display:
                out.append(".Bd -literal -offset indent")
                in_display = True
            text = LEADING.sub("", line)
            # A display line starting with a dot or quote would be read as a request.
            out.append("\\&" + text if text[:1] in ".'" else text)
            continue
        if in_display:
            out.append(".Ed")
            in_display = False
        if not line.strip():
            # A blank line is a paragraph break; two in a row, or one right after a break, are one.
            if out and not out[-1].startswith((".Pp", ".Bl", ".It", ".Sh")):
                out.append(".Pp")
            continue
        if line.startswith((".It", ".El")) and out and out[-1] == ".Pp":
            # A break just before a list item or the list's end is implied by it.
            out.pop()
        out.append(line)
    if in_display:
        out.append(".Ed")
    return out


sys.stdout.write("\n".join(tidy(sys.stdin.read().split("\n"))))
