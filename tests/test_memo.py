"""The workspace's one memo: bounded, least recently used first out, computed once per key."""
import threading

from tagger.workspace.memo import Memo, clear_all


def test_memo_computes_once_per_key_and_drops_the_least_recently_used():
    m, calls = Memo("test", size=2), []
    get = lambda k: m.get(k, lambda: calls.append(k) or k * 10)  # noqa: E731
    assert get(1) == 10 and get(2) == 20 and get(1) == 10 and calls == [1, 2]
    get(3)                                   # full: 2 was used least recently
    assert len(m) == 2 and get(1) == 10 and calls == [1, 2, 3]
    get(2)
    assert calls == [1, 2, 3, 2]
    clear_all()
    assert len(m) == 0


def test_memo_under_threads_stays_bounded_and_consistent():
    m = Memo("threads", size=8)
    errors = []

    def work(seed):
        for i in range(300):
            k = (seed * 7 + i) % 20
            if m.get(k, lambda: k * k) != k * k:
                errors.append(k)
    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(m) <= 8
