"""Reading YAML and JSON text safely: UTF-8, duplicate keys, nesting, numbers.

Every file bayesdx reads - knowledge files, case files, uploads, vignettes -
goes through these functions, so hostile or careless input ends in a clear
:class:`TextError` (``where: must be X; got Y; try Z``) rather than an
exception from deep inside a parser:

* **Duplicate keys** are an error naming the key path and the line of each
  occurrence (YAML and JSON both silently keep the last value otherwise:
  ``cbc: {anc: 0.2, anc: 3.0}`` would read as a normal count).
* **Encoding**: the text must be UTF-8; a byte-order mark is accepted (and
  dropped) in YAML and JSON alike.
* **Nesting** deeper than :data:`MAX_DEPTH` levels and documents that expand
  (through YAML aliases) to more than :data:`MAX_NODES` values are refused
  before anything recurses over them.
* **Numbers**: only decimal integers are integers. YAML 1.1's hexadecimal
  (``0x10``), octal (``010``), binary and base-60 (``1:30``) forms, and
  integers of more than :data:`MAX_INT_DIGITS` digits, are kept as the text
  written, so a reader reports them instead of reading ``anc: 0x10`` as 16.

YAML is parsed by libyaml when PyYAML has it (about 7x faster); only the
scanner and parser are in C, the constructor is PyYAML's safe one (no Python
objects are ever built from tags).

Examples
--------
>>> yaml_load("a: [1, 2.5, yes, null]")
{'a': [1, 2.5, True, None]}
>>> yaml_load("anc: 0x10")
{'anc': '0x10'}
>>> try:
...     yaml_load("cbc:\\n  anc: 0.2\\n  anc: 3.0\\n")
... except TextError as err:
...     print(err.problem("case.yaml"))
case.yaml: cbc.anc: must be given once; got it at line 2 and again at line 3; try keeping one of the two
>>> json_load('\\ufeff{"cbc": {"anc": 0.2}}')
{'cbc': {'anc': 0.2}}
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from ..errors import Problem

__all__ = ["MAX_DEPTH", "MAX_INT_DIGITS", "MAX_NODES", "TextError", "decode", "json_load",
           "read_text", "yaml_load"]

MAX_DEPTH = 64
"""Deepest nesting of mappings and lists accepted (the deepest real file has fewer than 10)."""
MAX_NODES = 1_000_000
"""Most values a document may hold once YAML aliases are expanded."""
MAX_INT_DIGITS = 400
"""Longer integers are kept as text (Python refuses to convert more than 4,300 digits)."""


class TextError(ValueError):
    """A YAML or JSON text that cannot be used, as a :class:`~bayesdx.errors.Problem` without its file.

    Parameters
    ----------
    where : str
        Key path (``cbc.anc``) or position (``line 3, column 7``); may be empty.
    expected, got, hint : str
        As in :class:`~bayesdx.errors.Problem`.
    """

    def __init__(self, where: str, expected: str, got: str | None = None, hint: str | None = None):
        self.where, self.expected, self.got, self.hint = where, expected, got, hint
        super().__init__(str(self.problem("<text>")))

    def problem(self, file: str) -> Problem:
        """The problem in ``file``."""
        return Problem(file, self.where, self.expected, self.got, self.hint)


# --------------------------------------------------------------------------- bytes


def decode(data: bytes) -> str:
    """UTF-8 bytes to text, dropping a byte-order mark.

    >>> decode(b"\\xef\\xbb\\xbfa: 1")
    'a: 1'
    >>> try:
    ...     decode(b"a: 1\\nb: caf\\xe9\\n")
    ... except TextError as err:
    ...     print(err.problem("f.yaml"))
    f.yaml: line 2, column 7: must be UTF-8 text; got the byte 0xe9; try saving the file as UTF-8
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start
        line = data.count(b"\n", 0, start) + 1
        col = start - (data.rfind(b"\n", 0, start) + 1) + 1
        raise TextError(f"line {line}, column {col}", "must be UTF-8 text",
                        f"the byte 0x{data[start]:02x}", "saving the file as UTF-8") from None


def read_text(path: str | Path) -> str:
    """The text of a UTF-8 file (:func:`decode`); an unreadable file raises ``OSError``."""
    return decode(Path(path).read_bytes())


# --------------------------------------------------------------------------- YAML

_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")


def _construct_int(loader, node):
    text = loader.construct_scalar(node)
    if _DECIMAL.fullmatch(text) and len(text) <= MAX_INT_DIGITS:
        return int(text)
    return text  # 0x10, 010, 0b1, 1_000, 1:30, or absurdly long: kept as written


def _construct_float(loader, node):
    text = loader.construct_scalar(node)
    if ":" in text or "_" in text:  # base 60 (1:30.5) and 1_000.5: kept as written
        return text
    return yaml.SafeLoader.construct_yaml_float(loader, node)


def _loader_class(base):
    cls = type(f"Bayesdx{base.__name__}", (base,), {})
    cls.add_constructor("tag:yaml.org,2002:int", _construct_int)
    cls.add_constructor("tag:yaml.org,2002:float", _construct_float)
    return cls


_FAST_LOADER = _loader_class(yaml.CSafeLoader) if hasattr(yaml, "CSafeLoader") else None
_SLOW_LOADER = _loader_class(yaml.SafeLoader)
_MERGE = "tag:yaml.org,2002:merge"


def _line(node) -> int:
    return node.start_mark.line + 1


def _key_text(key: Any) -> str:
    return str(key) if isinstance(key, (str, int, float, bool)) or key is None else repr(key)


def _join(path: str, part: str) -> str:
    return f"{path}{part}" if part.startswith("[") or not path else f"{path}.{part}"


def _duplicate(first: ScalarNode, again: ScalarNode) -> str:
    a, b = first.start_mark, again.start_mark
    if a.line == b.line:
        return f"it at line {a.line + 1}, column {a.column + 1} and again at column {b.column + 1}"
    return f"it at line {a.line + 1} and again at line {b.line + 1}"


def _children(loader, node, path: str, duplicates: list | None,
              lines: dict | None) -> list[tuple[Any, str]]:
    """The child nodes of ``node`` with their key paths; a duplicate key raises (or is collected)."""
    if isinstance(node, SequenceNode):
        return [(child, f"{path}[{i}]") for i, child in enumerate(node.value)]
    if not isinstance(node, MappingNode):
        return []
    out = []
    first: dict[Any, ScalarNode] = {}
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:  # '<<: *defaults' merges; explicit keys may override them
            out.append((value_node, path))
            continue
        if not isinstance(key_node, ScalarNode):
            out += [(key_node, _join(path, "?")), (value_node, _join(path, "?"))]
            continue
        try:
            key = loader.construct_object(key_node)
            hash(key)
        except (yaml.YAMLError, TypeError, ValueError):
            key = (key_node.tag, key_node.value)
        where = _join(path, _key_text(key))
        if key in first:
            err = TextError(where, "must be given once", _duplicate(first[key], key_node),
                            "keeping one of the two")
            if duplicates is None:
                raise err
            duplicates.append(err)
        first[key] = key_node
        if lines is not None and where.count(".") < 2:
            lines.setdefault(where, key_node.start_mark.line + 1)
        out.append((value_node, where))
    return out


def _check_nodes(loader, root, duplicates: list | None = None, lines: dict | None = None) -> None:
    """Duplicate keys, nesting depth and expanded size of a composed document.

    An iterative post-order walk over the distinct nodes (an alias is walked
    once), so neither deep nesting nor an alias bomb makes it recurse or blow up.
    """
    height: dict[int, int] = {}
    size: dict[int, int] = {}
    kids: dict[int, list] = {}
    stack: list[tuple[Any, str, bool]] = [(root, "", False)]
    while stack:
        node, path, post = stack.pop()
        nid = id(node)
        if post:
            ch = kids.pop(nid)
            deepest = max((height[id(c)] for c, _ in ch), default=0)
            height[nid] = 0 if isinstance(node, ScalarNode) else 1 + deepest
            size[nid] = 1 + sum(size[id(c)] for c, _ in ch)
            if height[nid] > MAX_DEPTH:
                raise TextError(path or f"line {_line(node)}",
                                f"must be nested at most {MAX_DEPTH} levels deep",
                                f"{height[nid]} levels from line {_line(node)}",
                                "flattening the structure")
            if size[nid] > MAX_NODES:
                raise TextError(path, f"must hold at most {MAX_NODES:,} values once YAML aliases "
                                "are expanded", f"{size[nid]:,}", "writing the values out without "
                                "anchors and aliases")
            continue
        if nid in height:
            continue  # an alias of a node already checked
        if nid in kids:
            raise TextError(path or f"line {_line(node)}", "must not contain itself",
                            "a YAML alias to its own anchor", "writing the value out")
        kids[nid] = _children(loader, node, path, duplicates, lines)
        stack.append((node, path, True))
        stack.extend((child, cpath, False) for child, cpath in kids[nid])


def _load_with(cls, text: str, duplicates: list | None, lines: dict | None) -> Any:
    loader = cls(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_nodes(loader, node, duplicates, lines)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def yaml_load(text: str, *, duplicates: list | None = None, lines: dict | None = None) -> Any:
    """``yaml.safe_load(text)``, checked (duplicate keys, nesting, numbers: see the module).

    Parameters
    ----------
    text : str
        The YAML text.
    duplicates : list, optional
        When given, duplicate keys are appended to it as :class:`TextError` and
        the last value is kept (to report every problem of a knowledge file at
        once) instead of raising on the first.
    lines : dict, optional
        When given, filled with ``key path -> line`` for the keys of the first
        two levels (``causes.sle``).

    Raises
    ------
    yaml.YAMLError
        The text is not YAML (the exception, message and position of ``yaml.safe_load``).
    TextError
        A duplicate key, nesting too deep, a document too large.
    """
    if _FAST_LOADER is not None:
        try:
            return _load_with(_FAST_LOADER, text, duplicates, lines)
        except yaml.YAMLError as exc:
            if "maximum nesting depth" in str(getattr(exc, "problem", "")):
                mark = exc.problem_mark
                raise TextError(f"line {mark.line + 1}, column {mark.column + 1}",
                                f"must be nested at most {MAX_DEPTH} levels deep",
                                "deeper nesting", "flattening the structure") from None
            fast_error = exc
    else:
        fast_error = None
    try:
        if duplicates is not None:
            del duplicates[:]
        return _load_with(_SLOW_LOADER, text, duplicates, lines)  # the pure-Python parser's message and position
    except RecursionError:
        if fast_error is not None:  # libyaml stops at 1,000 levels with a clear message
            raise fast_error from None
        raise TextError("", f"must be nested at most {MAX_DEPTH} levels deep", "deeper nesting",
                        "flattening the structure") from None


# --------------------------------------------------------------------------- JSON


class _Duplicate(Exception):
    pass


def _pairs(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(key)
        out[key] = value
    return out


def _parse_int(text: str):
    return int(text) if len(text) <= MAX_INT_DIGITS else text


def _depth_check(data: Any) -> None:
    stack = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise TextError("", f"must be nested at most {MAX_DEPTH} levels deep", "deeper nesting",
                            "flattening the structure")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def json_load(text: str) -> Any:
    """``json.loads(text)``, checked like :func:`yaml_load`; every problem is a :class:`TextError`.

    >>> try:
    ...     json_load('{"medications": [],\\n "medications": []}')
    ... except TextError as err:
    ...     print(err.where, err.got)
    medications it at line 1 and again at line 2
    """
    text = text.removeprefix("\ufeff")
    try:
        data = json.loads(text, object_pairs_hook=_pairs, parse_int=_parse_int)
    except _Duplicate as dup:
        try:  # JSON is YAML: let the YAML composer find both lines
            yaml_load(text)
        except TextError as err:
            raise err from None
        except yaml.YAMLError:
            pass
        raise TextError(str(dup.args[0]), "must be given once in its mapping", "it twice",
                        "keeping one of the two") from None
    except json.JSONDecodeError as exc:
        raise TextError(f"line {exc.lineno}, column {exc.colno}", "must be valid JSON", exc.msg,
                        "checking brackets, commas and quotes near that line") from None
    except RecursionError:
        raise TextError("", f"must be nested at most {MAX_DEPTH} levels deep", "deeper nesting",
                        "flattening the structure") from None
    except ValueError as exc:
        raise TextError("", "must be valid JSON", str(exc), "checking the numbers") from None
    _depth_check(data)
    return data
