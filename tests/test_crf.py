"""The CRF's log-partition, Viterbi and marginals against brute-force enumeration."""
import itertools

import pytest
import torch

from tagger.models.crf import CRF, bio_constraints

TAGS = ["O", "B-PS", "I-PS", "B-LC"]


def _make(constrained: bool, seed: int = 0):
    torch.manual_seed(seed)
    crf = CRF(len(TAGS), *(bio_constraints(TAGS) if constrained else (None, None, None)))
    with torch.no_grad():
        for p in (crf.transitions, crf.start, crf.end):
            p.normal_()
    return crf


def _brute(crf, em, length):
    trans, start, end = crf._scores()
    scores = {}
    for path in itertools.product(range(len(TAGS)), repeat=length):
        s = start[path[0]] + em[0, path[0]] + end[path[-1]]
        for t in range(1, length):
            s = s + trans[path[t - 1], path[t]] + em[t, path[t]]
        scores[path] = s
    return scores


@pytest.mark.parametrize("constrained", [False, True])
def test_partition_viterbi_marginals_match_brute_force(constrained):
    crf = _make(constrained)
    lengths = [4, 2, 1]
    B, T, C = len(lengths), max(lengths), len(TAGS)
    em = torch.randn(B, T, C)
    mask = torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]
    logz = crf.log_partition(em, mask)
    best = crf.decode(em, mask)
    marg = crf.marginals(em, mask)
    for b, n in enumerate(lengths):
        scores = _brute(crf, em[b], n)
        vals = torch.stack(list(scores.values()))
        assert torch.allclose(logz[b], torch.logsumexp(vals, 0), atol=1e-4)
        argbest = max(scores, key=lambda p: scores[p].item())
        assert best[b, :n].tolist() == list(argbest)
        assert best[b, n:].eq(0).all()
        probs = torch.softmax(vals, 0)
        for t in range(n):
            expect = torch.zeros(C)
            for p, pr in zip(scores, probs):
                expect[p[t]] += pr
            assert torch.allclose(marg[b, t], expect, atol=1e-4)
        # the score of each path matches the brute-force one
        path = torch.tensor(argbest + (0,) * (T - n)).unsqueeze(0)
        s = crf.score(em[b:b + 1], path, mask[b:b + 1])
        assert torch.allclose(s[0], scores[argbest], atol=1e-4)


def test_constrained_decode_never_emits_illegal_bio():
    crf = _make(True, seed=3)
    em = torch.randn(8, 6, len(TAGS)) * 5
    em[:, :, 2] += 4  # push I-PS everywhere
    mask = torch.ones(8, 6, dtype=torch.bool)
    for row in crf.decode(em, mask).tolist():
        tags = [TAGS[i] for i in row]
        for prev, cur in zip(["O"] + tags, tags):
            if cur == "I-PS":
                assert prev in ("B-PS", "I-PS")


def test_nll_is_positive_and_trains():
    crf = _make(True)
    em = torch.randn(2, 5, len(TAGS), requires_grad=True)
    tags = torch.tensor([[1, 2, 0, 3, 0], [0, 1, 2, 2, 0]])
    mask = torch.ones(2, 5, dtype=torch.bool)
    loss = crf.nll(em, tags, mask)
    assert loss.item() > 0
    loss.backward()
    assert em.grad is not None and em.grad.abs().sum() > 0


@pytest.mark.parametrize("constrained", [False, True])
def test_scan_forward_algorithm_equals_the_time_loop(constrained):
    """The parallel scan (CUDA's default) and the time loop (CPU's) give the
    same log Z and the same gradients, for odd and even lengths, T = 1 and padding."""
    crf = _make(constrained, seed=3)
    for lengths in ([7, 5, 1, 6], [1], [2, 2], [16, 9, 3]):
        B, T = len(lengths), max(lengths)
        mask = torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]
        out = {}
        for scan in (False, True):
            em = torch.randn(B, T, len(TAGS), generator=torch.Generator().manual_seed(5), requires_grad=True)
            crf.scan = scan
            z = crf.log_partition(em, mask)
            z.sum().backward()
            out[scan] = (z.detach(), em.grad)
        assert torch.allclose(out[False][0], out[True][0], atol=1e-4)
        assert torch.allclose(out[False][1], out[True][1], atol=1e-5)
    crf.scan = None
    assert crf.log_partition(torch.randn(1, 3, len(TAGS)), torch.ones(1, 3, dtype=torch.bool)).shape == (1,)
