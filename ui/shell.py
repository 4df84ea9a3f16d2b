"""The app's frame: page setup, the one navigation every URL goes through, the
read-only switch, the workspace handle of a page and how failures are shown.

Every address opens its page inside the navigation: ``/Data``, ``/DATA``,
``/language_models`` … are the registered ``/data`` and ``/language-models``
(Streamlit matches paths exactly and would show "Page not found" over Home);
the query (a Demo share link's ``model`` and ``text``) is kept. The page
scripts live in ``app_pages/``: a ``pages/`` folder beside app.py would turn
on Streamlit's v1 auto-discovery, which serves the first request after a
start outside this navigation (streamlit/streamlit#9624). A script's file
name is its url path (``5_demo.py`` → ``demo``), as ``AppTest.switch_page``
infers it."""
from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

import streamlit as st

from tagger import TaggerError, settings
from tagger.runs import control as runs
from tagger.workspace.store import Workspace

# (title, script, icon, url path); Demo is the one page of a read-only server
PAGES = (("Data", "app_pages/1_data.py", ":material/description:", "data"),
         ("Train", "app_pages/2_train.py", ":material/model_training:", "train"),
         ("Evaluate", "app_pages/3_evaluate.py", ":material/analytics:", "evaluate"),
         ("Review", "app_pages/4_review.py", ":material/edit_note:", "review"),
         ("Language models", "app_pages/6_language-models.py", ":material/auto_stories:", "language-models"))
DEMO = ("Demo", "app_pages/5_demo.py", ":material/chat:", "demo")


def setup() -> None:
    st.set_page_config(page_title="Korean tagging workbench", page_icon="🏷️", layout="wide")


def readonly() -> bool:
    """``TAGGER_READONLY`` (read in tagger/settings.py, the one place for the environment)."""
    return settings.readonly()


def nav_pages(landing) -> list:
    """Landing + the six pages; only landing and Demo when read-only."""
    pages = [st.Page(landing, title="Home", icon=":material/home:", default=True)]
    for title, script, icon, url_path in (() if readonly() else PAGES) + (DEMO,):
        pages.append(st.Page(script, title=title, icon=icon, url_path=url_path))
    return pages


def _key(name: str) -> str:
    """A path as a user may type it, reduced: ``Language_models`` = ``language-models``."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


def requested_path() -> str:
    """The last segment of the browser's path on a session's first run ('' at the root).
    Before the navigation is set, ``st.context.url`` is the address as typed."""
    url = st.context.url or ""
    return unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])


def page_for(path: str, pages: list):
    """The page a path means when it is not exactly a registered url path (case,
    ``_`` for ``-``, the title), else None."""
    if not path or any(p.url_path == path for p in pages):
        return None
    return next((p for p in pages if _key(path) in (_key(p.url_path), _key(p.title)) and _key(path)), None)


def navigate(landing) -> None:
    """Run the page the URL names, inside the navigation. A variant of a page's
    path is registered for this run as a hidden alias (so Streamlit finds it and
    shows no "Page not found"), then switched to the page itself, query kept."""
    pages = nav_pages(landing)
    wanted = requested_path()
    target = page_for(wanted, pages)
    if target is not None:
        pages.append(st.Page(target._page, title=target.title, icon=target.icon, url_path=wanted,
                             visibility="hidden"))
    chosen = st.navigation(pages)
    if target is not None and chosen.url_path == wanted:
        st.switch_page(target, query_params=st.query_params.to_dict())
    chosen.run()


@st.cache_resource
def limit_threads() -> bool:
    """Predictions in the app use few CPU threads: the machine is shared with training runs."""
    import torch
    torch.set_num_threads(runs.default_threads())
    return True


def workspace() -> Workspace:
    limit_threads()
    try:
        ws = Workspace()
    except TaggerError as err:
        st.error(str(err))
        st.stop()
    return ws


def page(title: str, writable: bool = True) -> Workspace:
    """Page header; stops with a message when the page needs writing and the app is read-only."""
    st.title(title)
    if writable and readonly():
        st.warning("This is a read-only demo server (TAGGER_READONLY=1): only the Demo page is available.")
        st.stop()
    return workspace()


def fail(err: Exception) -> None:
    st.error(str(err) if isinstance(err, TaggerError) else f"{type(err).__name__}: {err}")


def link(path: str, label: str, icon: str | None = None, where=st) -> None:
    """``st.page_link`` that degrades to a caption when the page is not in the
    navigation (a page run on its own, in tests)."""
    try:
        where.page_link(path, label=label, icon=icon)
    except Exception:  # noqa: BLE001 - StreamlitPageNotFoundError and friends
        name = next((p[0] for p in PAGES + (DEMO,) if p[1] == path), path)
        where.caption(f"{label}: see the {name} page")
