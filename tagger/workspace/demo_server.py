"""The workspace of a public demo server (``scripts/serve_demo.sh``): a fresh
workspace holding just the given model zips, and the share links to print.

    python -m tagger.workspace.demo_server --workspace DIR [--port N] [--address A] [--url BASE] MODEL.zip ...

With ``--port`` the port is checked first (free to listen on); without it only
the workspace is built (for a host that starts the app itself, such as
Streamlit Community Cloud) and the links name port 8501.

Each zip goes through :func:`tagger.workspace.models.import_zip` (checksum,
plain tensors only) under an id derived from its weights
(``stable_id=True``): the same zips give the same ids on every build, so share
links survive a redeploy and two servers on the same zips answer alike. The
workspace is built beside ``DIR`` and replaces it only when every zip imported;
``DIR`` must be new, empty or an earlier demo workspace (it holds ``.serve_demo``).
Exit 0 after printing the links; on a bad zip, a busy port or a folder that is
not a demo workspace, one line ``serve_demo: WHAT: reason`` and exit 2, with
nothing changed."""
from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import sys
from pathlib import Path
from urllib.parse import urlencode

from tagger.core import TaggerError
from tagger.workspace import models as ws_models
from tagger.workspace.store import Workspace

MARKER = ".serve_demo"
DEFAULT_PORT = 8501
ALL_INTERFACES = ("", "0.0.0.0", "::")
# one example text per model kind: the Demo page's examples and the printed share links
EXAMPLES = {"tagger": "김철수는 어제 서울 시청에서 기자회견을 열었다. 삼성전자는 3일 신제품을 발표했다.",
            "lm": "철수와 영희는 식탁에 앉아 사과를", "classifier": "배우들 연기가 정말 훌륭했어요. 두 시간이 아깝다."}


class DemoError(Exception):
    """A user error: ``what`` (a file, a folder, a port) and the reason."""

    def __init__(self, what, reason: str):
        super().__init__(f"{what}: {reason}")


def check_target(root: Path) -> None:
    """``root`` may be replaced: it is missing, empty or an earlier demo workspace."""
    if not root.exists():
        return
    if not root.is_dir():
        raise DemoError(root, "not a folder")
    if any(root.iterdir()) and not (root / MARKER).is_file():
        raise DemoError(root, "not empty and not a demo workspace made by serve_demo.sh "
                              "(it would be replaced): pass a new or empty folder with --workspace")


def check_port(port: int, address: str) -> None:
    """A clear error now rather than Streamlit's after the build."""
    if not 0 < port < 65536:
        raise DemoError(f"port {port}", "not a port number (1-65535)")
    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((address or "0.0.0.0", port))
        except OSError as err:
            raise DemoError(f"port {port}", f"cannot listen on {address or 'all interfaces'}: "
                                            f"{err.strerror or err}") from None


def import_one(ws: Workspace, path: Path) -> dict:
    """One zip imported under its stable id; any failure is that file's, in one line."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DemoError(path, err.strerror or str(err)) from None
    try:
        return ws_models.import_zip(ws, data, name=path.name, stable_id=True)
    except TaggerError as err:  # without the staging folder's paths: "weights.pt: does not match …"
        raise DemoError(path, re.sub(re.escape(str(ws.root)) + r"\S*/", "", str(err))) from None
    except Exception as err:  # noqa: BLE001 - a hostile or broken zip: name the file, no traceback
        raise DemoError(path, f"not a usable model zip ({type(err).__name__}: {err})") from None


def build(root: Path, zips: list[Path]) -> list[dict]:
    """A fresh workspace at ``root`` holding just ``zips``; the catalogue rows, in order."""
    root = root.resolve()
    check_target(root)
    staging = root.with_name(root.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    os.environ["TAGGER_WORKSPACE"] = str(staging)  # caches a model load may touch stay in it
    try:
        ws = Workspace(staging)
        rows = [import_one(ws, Path(z)) for z in zips]
        (staging / MARKER).write_text("made by scripts/serve_demo.sh; rebuilt on every start\n")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if root.exists():
        shutil.rmtree(root)
    staging.rename(root)
    os.environ["TAGGER_WORKSPACE"] = str(root)
    return rows


def base_url(port: int, address: str, url: str = "") -> str:
    """``--url`` as given, else ``http://ADDRESS:PORT`` (localhost when serving all interfaces)."""
    if url:
        return url.rstrip("/")
    host = "localhost" if address in ALL_INTERFACES else address
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def links(rows: list[dict], base: str) -> list[dict]:
    """Per model: its id, kind, name, share link and an example link with ``&text=``."""
    out = []
    for r in rows:
        link = f"{base}/demo?{urlencode({'model': r['id']})}"
        example = f"{base}/demo?{urlencode({'model': r['id'], 'text': EXAMPLES[r['kind']]})}"
        out.append({"id": r["id"], "kind": r["kind"], "name": r["name"], "link": link, "example": example})
    return out


def parse_args(argv):
    p = argparse.ArgumentParser(prog="serve_demo", description="Build a demo server's workspace.")
    p.add_argument("zips", nargs="+", type=Path, metavar="MODEL.zip")
    p.add_argument("--workspace", type=Path, required=True)
    p.add_argument("--port", type=int, default=None, help="check that the server can listen on it")
    p.add_argument("--address", default="")
    p.add_argument("--url", default="", help="the public base URL printed in the links")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        if args.port is not None:
            check_port(args.port, args.address)
        rows = build(args.workspace, args.zips)
    except DemoError as err:
        print(f"serve_demo: {err}", file=sys.stderr)
        return 2
    print(f"serve_demo: {len(rows)} model(s) in {args.workspace.resolve()} (read-only: Home and Demo)")
    for item in links(rows, base_url(args.port or DEFAULT_PORT, args.address, args.url)):
        print(f"serve_demo: model {item['id']}  {item['kind']}  {item['name']}")
        print(f"  share link: {item['link']}")
        print(f"  example:    {item['example']}")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
