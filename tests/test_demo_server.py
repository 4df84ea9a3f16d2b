"""The demo server's workspace (tagger/workspace/demo_server.py, behind
scripts/serve_demo.sh): stable ids from the weights on that path only, a fresh
workspace per build that replaces an earlier one only when every zip imports,
one clear line and exit 2 for a bad zip, a busy port or a folder that is not a
demo workspace, and the share links it prints."""
import re
import socket
from urllib.parse import parse_qs, urlsplit

import pytest

from demo_support import tiny_ngram, tiny_tagger, zip_model
from e2e_support import free_port
from tagger.core import TaggerError
from tagger.workspace import demo_server, models as ws_models
from tagger.workspace.store import Workspace

PORT = free_port()


@pytest.fixture(scope="module")
def zips(tmp_path_factory):
    d = tmp_path_factory.mktemp("zips")
    return {"tagger": zip_model(tiny_tagger(d / "ner_tiny"), d / "ner_tiny.zip"),
            "lm": zip_model(tiny_ngram(d / "lm_tiny"), d / "lm_tiny.zip")}


def _run(capsys, *argv):
    code = demo_server.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_import_zip_keeps_random_ids_unless_asked_for_a_stable_one(zips, tmp_path):
    data = zips["tagger"].read_bytes()
    ws = Workspace(tmp_path / "a")
    first, second = ws_models.import_zip(ws, data), ws_models.import_zip(ws, data)
    assert first["id"] != second["id"]  # the upload path: every import is a new model
    stable = ws_models.import_zip(ws, data, name="x.zip", stable_id=True)
    other = ws_models.import_zip(Workspace(tmp_path / "b"), data, stable_id=True)
    assert stable["id"] == other["id"] == ws_models.content_id(ws_models.model_dir(ws, first["id"]))
    assert re.fullmatch(r"m-[0-9a-f]{10}", stable["id"])
    with pytest.raises(TaggerError, match="already in this workspace as " + stable["id"]):
        ws_models.import_zip(ws, data, stable_id=True)
    lm = ws_models.import_zip(ws, zips["lm"].read_bytes(), stable_id=True)  # counts.json, no weights.pt
    assert lm["kind"] == "lm" and lm["id"] != stable["id"]


def test_build_twice_gives_the_same_ids_and_links(zips, tmp_path, capsys):
    outs = []
    for name in ("one", "two"):
        code, out, err = _run(capsys, "--workspace", tmp_path / name, "--port", PORT,
                              zips["tagger"], zips["lm"])
        assert code == 0, err
        outs.append(out.replace(str(tmp_path / name), "WS"))
    assert outs[0] == outs[1]
    rows = ws_models.models(Workspace(tmp_path / "one"))
    assert sorted(r["kind"] for r in rows) == ["lm", "tagger"] and (tmp_path / "one" / ".serve_demo").is_file()
    links = re.findall(r"share link: (\S+)", outs[0])
    examples = re.findall(r"example: +(\S+)", outs[0])
    ids = {r["kind"]: r["id"] for r in rows}
    assert links == [f"http://localhost:{PORT}/demo?model={ids[k]}" for k in ("tagger", "lm")]
    assert [parse_qs(urlsplit(u).query)["text"][0] for u in examples] == [
        demo_server.EXAMPLES["tagger"], demo_server.EXAMPLES["lm"]]


def test_a_bad_zip_stops_with_one_line_and_keeps_the_earlier_workspace(zips, tmp_path, capsys):
    target = tmp_path / "ws"
    assert _run(capsys, "--workspace", target, "--port", PORT, zips["tagger"])[0] == 0
    before = sorted(p.name for p in (target / "models").iterdir())
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip at all")
    for argv, reason in [((zips["lm"], bad), "not a zip file"),
                         ((tmp_path / "missing.zip",), "No such file"),
                         ((zips["lm"], zips["lm"]), "the same model")]:
        code, out, err = _run(capsys, "--workspace", target, "--port", PORT, *argv)
        assert code == 2 and out == "" and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1 and err.startswith("serve_demo: ") and reason in err, err
        assert sorted(p.name for p in (target / "models").iterdir()) == before
        assert not (tmp_path / "ws.building").exists()


def test_a_tampered_weights_file_is_refused(zips, tmp_path, capsys):
    import zipfile
    bad = tmp_path / "tampered.zip"
    with zipfile.ZipFile(zips["tagger"]) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info.filename, data[:-8] + b"\0" * 8 if info.filename.endswith("weights.pt") else data)
    code, _, err = _run(capsys, "--workspace", tmp_path / "ws", "--port", PORT, bad)
    assert code == 2 and err.strip() == (f"serve_demo: {bad}: weights.pt: does not match the checksum in "
                                         "model.json (an interrupted save?)"), err
    assert not (tmp_path / "ws").exists()


def test_pickled_objects_instead_of_tensors_are_refused(zips, tmp_path, capsys):
    """A weights.pt with a matching checksum that unpickles more than tensors."""
    import datetime
    import hashlib
    import json
    import zipfile
    import torch
    folder = tmp_path / "evil"
    folder.mkdir()
    with zipfile.ZipFile(zips["tagger"]) as zf:
        meta = json.loads(next(zf.read(n) for n in zf.namelist() if n.endswith("model.json")))
    torch.save({"payload": datetime.date(2020, 1, 1)}, folder / "weights.pt")
    meta["weights"]["sha256"] = hashlib.sha256((folder / "weights.pt").read_bytes()).hexdigest()
    (folder / "model.json").write_text(json.dumps(meta), encoding="utf-8")
    code, _, err = _run(capsys, "--workspace", tmp_path / "ws", zip_model(folder, tmp_path / "evil.zip"))
    assert code == 2 and err.startswith(f"serve_demo: {tmp_path / 'evil.zip'}: ") and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "ws").exists()


def test_a_folder_that_is_not_a_demo_workspace_or_a_busy_port_is_refused(zips, tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    code, _, err = _run(capsys, "--workspace", mine, "--port", PORT, zips["tagger"])
    assert code == 2 and "not a demo workspace" in err and (mine / "notes.txt").read_text() == "keep me"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        code, _, err = _run(capsys, "--workspace", tmp_path / "ws", "--port", port, "--address", "127.0.0.1",
                            zips["tagger"])
    assert code == 2 and err.startswith(f"serve_demo: port {port}: ") and not (tmp_path / "ws").exists()


def test_links_use_the_address_or_the_public_url():
    assert demo_server.base_url(8501, "") == "http://localhost:8501"
    assert demo_server.base_url(8502, "10.0.0.5") == "http://10.0.0.5:8502"
    assert demo_server.base_url(8501, "", "https://demo.example.org/") == "https://demo.example.org"
