"""Strings from data shown as what they are: never as markdown, HTML or plotly's text tags.

A username, email, worker id, team or job name, a reason or a rejected line comes from outside.
Pasted into ``st.markdown`` (and ``st.caption``, ``st.info``, ``st.warning``, ``st.subheader``
...), ``**x**`` turns bold, ``[t](http://host)`` becomes a link and ``![t](http://host/b.png)``
makes the viewer's browser fetch that URL. Escaping markdown's metacharacters is not enough:
Streamlit's markdown also turns any ``www.``, ``http://`` or ``name@host.tld`` in the *text*
into a link after escapes are resolved. So no string from data goes through a markdown parser:

- a line that mixes our words with data is HTML built here (:func:`html_line`), with every data
  string passed through :func:`literal` (``st.html`` sanitises what it is given besides);
- a plotly figure's trace names and category labels go through :func:`literal` too: plotly draws
  ``<a href>``, ``<b>`` and ``<br>`` in them and shows ``&lt;`` ``&gt;`` ``&amp;`` as characters;
- widget option labels (``format_func``) and ``st.dataframe`` cells are drawn as text by
  Streamlit: they only need :func:`~analytics.text.escape_controls`.

Control characters are escaped first, by the project's one rule
(:func:`analytics.text.escape_controls`), so a CR or LF in a name is shown as ``\\r`` ``\\n``.
"""

from __future__ import annotations

import html
from typing import Literal

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from analytics import escape_controls

#: How a line looks: as body text, as a small heading (a job's card), as a grey caption (the
#: sizes and shade of Streamlit's own ``####`` heading and ``st.caption``).
_STYLES = {
    "body": "margin:0",
    "heading": "margin:0;font-size:1.25rem;font-weight:600;line-height:1.4",
    "caption": "margin:0;font-size:0.875rem;opacity:0.6",
}


def literal(value: object) -> str:
    """``value`` as HTML text (for :func:`html_line` and plotly) that shows exactly its text.

    >>> literal("<b>x</b> & **y**\\r\\n")
    '&lt;b&gt;x&lt;/b&gt; &amp; **y**\\\\r\\\\n'
    """
    return html.escape(escape_controls(str(value)), quote=False)


def html_line(
    markup: str,
    *,
    style: Literal["body", "heading", "caption"] = "body",
    where: DeltaGenerator | None = None,
) -> None:
    """Draw one paragraph of our ``markup`` (data in it passed through :func:`literal`)."""
    (where if where is not None else st).html(f'<p style="{_STYLES[style]}">{markup}</p>')
