"""A linear-chain CRF over emissions (B, T, C): vectorised over the batch,
masked, with hard-forbidden transitions (BIO) applied in training and decoding.

Shapes: B batch, T time, C tags. ``mask`` is (B, T) bool and every row is a
prefix of ones (batches are padded at the end).
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import nn

NEG = -1e4  # a forbidden transition's score: exp(NEG) underflows to 0 in fp32


def bio_constraints(tags: Sequence[str]):
    """(allowed (C, C), start_allowed (C,), end_allowed (C,)) for BIO tags:
    ``I-X`` may only follow ``B-X`` or ``I-X`` and may not start a sentence."""
    C = len(tags)
    allowed = torch.ones(C, C, dtype=torch.bool)
    start = torch.ones(C, dtype=torch.bool)
    for j, tag in enumerate(tags):
        if tag.startswith("I-"):
            typ = tag[2:]
            start[j] = False
            for i, prev in enumerate(tags):
                allowed[i, j] = prev in (f"B-{typ}", f"I-{typ}")
    end = torch.ones(C, dtype=torch.bool)
    return allowed, start, end


class CRF(nn.Module):
    def __init__(self, num_tags: int, allowed: Optional[torch.Tensor] = None,
                 start_allowed: Optional[torch.Tensor] = None,
                 end_allowed: Optional[torch.Tensor] = None):
        super().__init__()
        C = num_tags
        self.num_tags = C
        self.scan: Optional[bool] = None   # forward algorithm: None = auto (scan on CUDA)
        self.transitions = nn.Parameter(torch.zeros(C, C))  # [from, to]
        self.start = nn.Parameter(torch.zeros(C))
        self.end = nn.Parameter(torch.zeros(C))
        ones = lambda *s: torch.ones(*s, dtype=torch.bool)  # noqa: E731
        self.register_buffer("allowed", ones(C, C) if allowed is None else allowed.clone())
        self.register_buffer("start_allowed", ones(C) if start_allowed is None else start_allowed.clone())
        self.register_buffer("end_allowed", ones(C) if end_allowed is None else end_allowed.clone())

    def _scores(self):
        trans = self.transitions.masked_fill(~self.allowed, NEG)
        start = self.start.masked_fill(~self.start_allowed, NEG)
        end = self.end.masked_fill(~self.end_allowed, NEG)
        return trans, start, end

    def log_partition(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """log Z per sentence, (B,). ``self.scan`` picks the algorithm: None
        (the default) = the parallel scan on CUDA, the time loop elsewhere."""
        use_scan = emissions.is_cuda if self.scan is None else self.scan
        if use_scan:
            return log_partition_scan(emissions, mask, *self._scores())
        return self._log_partition_loop(emissions, mask)

    def _log_partition_loop(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The forward algorithm, one step per time position (T small ops)."""
        trans, start, end = self._scores()
        alpha = start + emissions[:, 0]                                    # (B, C)
        for t in range(1, emissions.size(1)):
            # (B, C, 1) + (C, C) -> (B, C, C), summed over the previous tag
            nxt = torch.logsumexp(alpha.unsqueeze(2) + trans, dim=1) + emissions[:, t]
            alpha = torch.where(mask[:, t, None], nxt, alpha)
        return torch.logsumexp(alpha + end, dim=1)

    def score(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The unnormalised score of the given tag paths, (B,)."""
        trans, start, end = self._scores()
        m = mask.to(emissions.dtype)
        emit = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)           # (B, T)
        total = start[tags[:, 0]] + (emit * m).sum(1)
        pair = trans[tags[:, :-1], tags[:, 1:]]                            # (B, T-1)
        total = total + (pair * m[:, 1:]).sum(1)
        last = tags.gather(1, (mask.sum(1) - 1).unsqueeze(1)).squeeze(1)   # (B,)
        return total + end[last]

    def nll(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood summed over the batch."""
        return (self.log_partition(emissions, mask) - self.score(emissions, tags, mask)).sum()

    @torch.no_grad()
    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Viterbi: the best legal path per sentence, (B, T); 0 past the end."""
        return viterbi(emissions, mask, *self._scores())

    @torch.no_grad()
    def marginals(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Per-position tag marginals p(y_t = c | x), (B, T, C), by forward-backward."""
        trans, start, end = self._scores()
        B, T, C = emissions.shape
        alphas = [start + emissions[:, 0]]
        for t in range(1, T):
            nxt = torch.logsumexp(alphas[-1].unsqueeze(2) + trans, dim=1) + emissions[:, t]
            alphas.append(torch.where(mask[:, t, None], nxt, alphas[-1]))
        lengths = mask.sum(1)
        beta = end.expand(B, C).clone()
        betas = [None] * T
        for t in range(T - 1, -1, -1):
            is_last = (lengths - 1 == t)[:, None]
            if t < T - 1:
                step = torch.logsumexp(trans + (emissions[:, t + 1] + beta).unsqueeze(1), dim=2)
                beta = torch.where(mask[:, t + 1, None], step, beta)
            beta = torch.where(is_last, end.expand(B, C), beta)
            betas[t] = beta
        alpha = torch.stack(alphas, 1)                                     # (B, T, C)
        beta = torch.stack(betas, 1)                                       # (B, T, C)
        logz = torch.logsumexp(alpha + beta, dim=2, keepdim=True)          # (B, T, 1)
        return (alpha + beta - logz).exp() * mask.unsqueeze(2)


def log_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Matrix product in the log semiring: (..., C, C) x (..., C, C)."""
    return torch.logsumexp(a.unsqueeze(-1) + b.unsqueeze(-3), dim=-2)


def log_partition_scan(emissions: torch.Tensor, mask: torch.Tensor, trans: torch.Tensor,
                       start: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
    """log Z per sentence, (B,), by a parallel scan over time: the step
    matrices M_t[i, j] = trans[i, j] + emission_t[j] (the identity past a
    sentence's end) are multiplied pairwise in the log semiring, log2(T)
    levels of batched ops instead of T sequential steps; C times more
    arithmetic, far fewer kernel launches."""
    B, T, C = emissions.shape
    alpha0 = start + emissions[:, 0]                                       # (B, C)
    if T > 1:
        eye = torch.full((C, C), NEG, dtype=emissions.dtype, device=emissions.device)
        eye.fill_diagonal_(0.0)
        m = trans + emissions[:, 1:].unsqueeze(2)                          # (B, T-1, C, C)
        m = torch.where(mask[:, 1:, None, None], m, eye)
        while m.size(1) > 1:
            if m.size(1) % 2:
                m = torch.cat([m, eye.expand(B, 1, C, C)], dim=1)
            m = log_matmul(m[:, 0::2], m[:, 1::2])                         # (B, ceil(n/2), C, C)
        alpha0 = torch.logsumexp(alpha0.unsqueeze(2) + m[:, 0], dim=1)      # (B, C)
    return torch.logsumexp(alpha0 + end, dim=1)


@torch.no_grad()
def viterbi(emissions: torch.Tensor, mask: torch.Tensor, trans: torch.Tensor,
            start: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
    """The best path per sentence under (C, C) transition scores, (B, T); 0 past the end."""
    B, T, C = emissions.shape
    score = start + emissions[:, 0]                                        # (B, C)
    back = []
    for t in range(1, T):
        best, idx = (score.unsqueeze(2) + trans).max(dim=1)               # (B, C)
        back.append(idx)
        score = torch.where(mask[:, t, None], best + emissions[:, t], score)
    cur = (score + end).argmax(1)                                          # (B,)
    lengths = mask.sum(1)
    path = torch.zeros(B, T, dtype=torch.long, device=emissions.device)
    for t in range(T - 1, -1, -1):
        inside = t < lengths                                               # (B,)
        path[:, t] = torch.where(inside, cur, path[:, t])
        if t > 0:
            prev = back[t - 1].gather(1, cur.unsqueeze(1)).squeeze(1)
            cur = torch.where(inside, prev, cur)   # step back only inside the sentence
    return path


def constrained_argmax(log_probs: torch.Tensor, mask: torch.Tensor, tags) -> torch.Tensor:
    """Softmax-head decoding with BIO-illegal transitions forbidden: the most
    probable legal path under independent per-token probabilities."""
    allowed, start_ok, _ = (x.to(log_probs.device) for x in bio_constraints(tags))
    zero = log_probs.new_zeros(())
    trans = torch.where(allowed, zero, zero + NEG)
    start = torch.where(start_ok, zero, zero + NEG)
    return viterbi(log_probs, mask, trans, start, log_probs.new_zeros(len(tags)))
