"""What the loop's tests share: a tiny KLUE-format dataset written here (20
sentences of our own, every text distinct: names, places, dates) and a tiny
tagger trained on part of it in seconds."""
from tagger.core import Span

NAMES = ["김민준", "이서연", "박지호", "최유나", "정하준"]
PLACES = ["서울", "부산", "대구", "광주"]
TINY_MODEL = {"hidden_size": 16, "embedding_dim": 16, "num_layers": 1, "bigram_dim": 0, "char_dim": 8,
              "char_hidden": 8, "pos_dim": 0, "feat_dim": 16}
TINY_LOOP = {"epochs": 3, "patience": 2, "batch_size": 4, "fresh_epochs": 4, "fresh_patience": 2,
             "fresh_batch_size": 4}


def sentence(i: int) -> tuple[str, list[Span]]:
    """Sentence ``i``: ``<name:PS>는 <n월:DT> <place:LC>에 갔다 (i).``, every text different."""
    name, place, month = NAMES[i % 5], PLACES[i % 4], f"{i % 12 + 1}월"
    text = f"{name}는 {month} {place}에 갔다 ({i})."
    a = len(name) + 2
    b = a + len(month) + 1
    return text, [Span(0, len(name), "PS"), Span(a, a + len(month), "DT"), Span(b, b + len(place), "LC")]


def klue(pairs) -> bytes:
    """Sentences in KLUE's character format (a line per code point)."""
    out = []
    for text, spans in pairs:
        tags = ["O"] * len(text)
        for s in spans:
            tags[s.start:s.end] = [f"B-{s.label}"] + [f"I-{s.label}"] * (s.end - s.start - 1)
        out.append("".join(f"{c}\t{t}\n" for c, t in zip(text, tags)) + "\n")
    return "".join(out).encode("utf-8")


def add_tiny(ws, n: int = 20, name: str = "loop.tsv", start: int = 0) -> str:
    return ws.add_dataset(name, klue([sentence(i) for i in range(start, start + n)]))[0]["id"]
