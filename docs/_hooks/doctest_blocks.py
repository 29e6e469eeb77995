"""A griffe extension: `>>>` doctest blocks render as Python code.

The package's docstrings give their examples as bare doctest blocks (lines
starting with `>>>`, their `...` continuations and the expected output, up
to the next blank line). Markdown would render such a block as nested
quotes and read `[1, 2]` or `[...]` in it as a reference link (a warning,
so an error under `mkdocs build --strict`). This extension wraps every such
block of a docstring's text sections (and admonitions) in a ```` ```python ````
fence after griffe has parsed the docstring.

Registered in `mkdocs.yml` under the mkdocstrings python handler's
`options.extensions`.
"""

import re

import griffe

_PROMPT = re.compile(r"^(\s*)>>>( |$)")
_FENCE = re.compile(r"^\s*(```|~~~)")


def fence_doctests(text):
    r"""`text` with each doctest block wrapped in a ```` ```python ```` fence.

    Blocks already inside a fence are left alone.

    >>> fence_doctests("Example:\n\n>>> 1 + 1\n2\n\nDone.").split("\n")
    ['Example:', '', '```python', '>>> 1 + 1', '2', '```', '', 'Done.']
    """
    lines = text.split("\n")
    out = []
    in_fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            in_fence = not in_fence
            out.append(line)
            i += 1
            continue
        match = None if in_fence else _PROMPT.match(line)
        if match is None:
            out.append(line)
            i += 1
            continue
        indent = match.group(1)
        out.append(f"{indent}```python")
        while i < len(lines) and lines[i].strip():
            out.append(lines[i])
            i += 1
        out.append(f"{indent}```")
    return "\n".join(out)


def _fence_sections(sections):
    for section in sections:
        if section.kind is griffe.DocstringSectionKind.text:
            section.value = fence_doctests(section.value)
        elif section.kind is griffe.DocstringSectionKind.admonition:
            admonition = section.value
            admonition.description = fence_doctests(admonition.description)
    return sections


def _fencing(parse):
    def fenced_parse(*args, **kwargs):
        return _fence_sections(parse(*args, **kwargs))

    return fenced_parse


class DoctestBlocks(griffe.Extension):
    """Fences the doctest blocks of every docstring of a loaded package.

    The docstrings are parsed later, when mkdocstrings renders them (after
    the other extensions, the dataclasses one included, have run): this
    only wraps each docstring's `parse`, whose result `Docstring.parsed`
    caches.
    """

    def on_package(self, *, pkg, **kwargs):
        seen = set()
        stack = [pkg]
        while stack:
            obj = stack.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if obj.docstring is not None:
                obj.docstring.parse = _fencing(obj.docstring.parse)
            stack.extend(
                member for member in obj.members.values() if not member.is_alias
            )
