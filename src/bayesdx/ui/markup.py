"""Escaping user-controlled text before it reaches Streamlit's Markdown.

Everything a user controls - a link's query keys and values, an uploaded
file's name and content, a typed value echoed in an error message - is shown
through :func:`md`, so it is displayed as the characters typed and never
*rendered*: no image the browser would fetch (``![x](http://...)``), no link
(``[Session expired - click to log in](https://...)``), no bold, heading,
colour directive (``:red[...]``), icon or emoji shortcode (``:material/...:``),
LaTeX (``$...$``) or HTML. No Streamlit here.

CommonMark lets any ASCII punctuation character be escaped with a backslash,
so :func:`md` escapes all of them (and folds line breaks into spaces, so that
a value cannot start a new block); the rendered text is the original.
Backslashes are not enough for what Streamlit finds in the *rendered* text
(GFM's bare-URL autolinks ``https://...``, ``www.`` and e-mail addresses;
``:emoji:`` shortcodes): there an invisible WORD JOINER (U+2060) is put after
each ``:`` and ``@`` and after ``www`` before a dot, so nothing matches.

Examples
--------
>>> print(md("![x](http://127.0.0.1:8000/b.png)").replace(JOINER, "+"))
\\!\\[x\\]\\(http\\:+\\/\\/127\\.0\\.0\\.1\\:+8000\\/b\\.png\\)
>>> print(md("**bold** :red[x] $y$ www.a.b").replace(JOINER, "+"))
\\*\\*bold\\*\\* \\:+red\\[x\\] \\$y\\$ www+\\.a\\.b
>>> md("plain words 12")
'plain words 12'
"""

from __future__ import annotations

import re
import string

__all__ = ["JOINER", "md"]

JOINER = "\u2060"
"""WORD JOINER: invisible, and not part of a URL, an address or a shortcode."""

_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")
_WWW = re.compile(r"www(?=\.)", re.IGNORECASE)
_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c]+")


def md(text: object) -> str:
    """``text`` (any object, through ``str``) escaped for Streamlit Markdown: shown, never rendered."""
    text = _WWW.sub("www" + JOINER, _BREAKS.sub(" ", str(text)))
    text = text.replace(":", ":" + JOINER).replace("@", "@" + JOINER)
    return _PUNCTUATION.sub(r"\\\1", text)
