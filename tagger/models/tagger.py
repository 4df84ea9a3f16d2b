"""The BiLSTM/GRU(-CRF) tagger: NCRF++'s layering (characters -> token ->
sequence -> inference) with Flair's keyword names.

``forward`` maps a padded, masked batch to emissions (B, T, C). The module
holds no state between batches.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import nn

from tagger.models.crf import CRF, bio_constraints, constrained_argmax

CELLS = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}


@dataclass(frozen=True)
class TaggerConfig:
    rnn_type: str = "lstm"          # lstm | gru | rnn
    embedding_dim: int = 128
    hidden_size: int = 128          # per direction
    num_layers: int = 2
    bidirectional: bool = True
    use_crf: bool = True
    dropout: float = 0.33           # on embeddings, between layers, on outputs
    char_encoder: str = "cnn"       # cnn | lstm | none (used when tokens have several chars)
    char_dim: int = 32
    char_hidden: int = 64
    pos_dim: int = 32               # 0 disables part-of-speech embeddings
    feat_dim: int = 64              # morpheme-form embedding for char+analyzer units
    bigram_dim: int = 64            # character-bigram embedding (char units), 0 = off
    layer_norm: bool = False
    unk_dropout: float = 0.2        # in training, replace sparse ids (token, bigram, morpheme) by <unk>


class CharEncoder(nn.Module):
    """Encodes each token from its characters: (B, T, L) -> (B, T, out_dim)."""

    def __init__(self, n_chars: int, cfg: TaggerConfig):
        super().__init__()
        self.kind = cfg.char_encoder
        self.emb = nn.Embedding(n_chars, cfg.char_dim, padding_idx=0)
        if self.kind == "cnn":
            self.conv = nn.Conv1d(cfg.char_dim, cfg.char_hidden, kernel_size=3, padding=1)
            self.out_dim = cfg.char_hidden
        else:
            self.rnn = nn.LSTM(cfg.char_dim, cfg.char_hidden // 2, batch_first=True, bidirectional=True)
            self.out_dim = 2 * (cfg.char_hidden // 2)

    def forward(self, chars: torch.Tensor) -> torch.Tensor:
        B, T, L = chars.shape
        flat = chars.reshape(B * T, L)                                  # (B*T, L)
        x = self.emb(flat)                                              # (B*T, L, char_dim)
        pad = flat.eq(0).unsqueeze(2)                                   # (B*T, L, 1)
        if self.kind == "cnn":
            h = self.conv(x.transpose(1, 2)).transpose(1, 2)            # (B*T, L, H)
        else:
            h, _ = self.rnn(x)                                          # (B*T, L, H)
        h = h.masked_fill(pad, -1e4).max(dim=1).values                  # (B*T, H)
        h = h.masked_fill(pad.all(dim=1), 0.0)                          # empty (pad) tokens -> 0
        return h.reshape(B, T, -1)                                      # (B, T, H)


def reverse_index(mask: torch.Tensor) -> torch.Tensor:
    """(B, T) indices that reverse each row's valid prefix and keep the padding."""
    T = mask.size(1)
    t = torch.arange(T, device=mask.device).unsqueeze(0)                # (1, T)
    lengths = mask.sum(1, keepdim=True)                                 # (B, 1)
    return torch.where(t < lengths, lengths - 1 - t, t)                 # (B, T)


class StackedRNN(nn.Module):
    """Layers of ``nn.LSTM/GRU/RNN`` over padded batches. The backward
    direction reads each sentence reversed within its own length (a gather),
    so padding at the end never reaches a real position and no packing is
    needed: packed sequences cost O(T^2) memory traffic in the CPU backward
    and are slower on cuDNN too. Dropout sits between layers only, never on
    the recurrent connection."""

    def __init__(self, cell: str, input_size: int, hidden: int, num_layers: int,
                 bidirectional: bool, dropout: float):
        super().__init__()
        make = getattr(nn, CELLS[cell])
        dirs = 2 if bidirectional else 1
        sizes = [input_size] + [hidden * dirs] * (num_layers - 1)
        self.fwd = nn.ModuleList([make(d, hidden, batch_first=True) for d in sizes])
        self.bwd = nn.ModuleList([make(d, hidden, batch_first=True) for d in sizes]) if bidirectional else None
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        B, T = mask.shape
        rows = None
        if self.bwd is not None:   # reversal as a row gather of the (B*T, D) view: faster than gather
            rows = (reverse_index(mask) + T * torch.arange(B, device=mask.device).unsqueeze(1)).reshape(-1)
        for layer, fwd in enumerate(self.fwd):
            if layer > 0:
                x = self.drop(x)                                        # between layers only
            out, _ = fwd(x)                                             # (B, T, H)
            if self.bwd is not None:
                back, _ = self.bwd[layer](_rows(x, rows))
                out = torch.cat([out, _rows(back, rows)], dim=2)
            x = out                                                     # (B, T, H*dirs)
        return x


def _rows(x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """(B, T, D) -> the same with time positions permuted by flat ``rows``."""
    B, T, D = x.shape
    return x.reshape(B * T, D).index_select(0, rows).view(B, T, D)


class Tagger(nn.Module):
    """Inputs (dict of tensors, B x T unless said): ``words``; ``mask`` (bool);
    optional ``chars`` (B, T, L), ``pos``, ``feats`` (B, T, 3: morpheme form,
    morpheme POS, position), ``bigrams``."""

    def __init__(self, cfg: TaggerConfig, sizes: dict, tags: list[str]):
        super().__init__()
        if cfg.rnn_type not in CELLS:
            raise ValueError(f"unknown cell {cfg.rnn_type!r} (choose from {', '.join(CELLS)})")
        self.cfg, self.tags = cfg, list(tags)
        self.word_emb = nn.Embedding(sizes["words"], cfg.embedding_dim, padding_idx=0)
        dim = cfg.embedding_dim
        self.char_enc = None
        if sizes.get("chars") and cfg.char_encoder != "none":
            self.char_enc = CharEncoder(sizes["chars"], cfg)
            dim += self.char_enc.out_dim
        self.pos_emb = self._opt_emb(sizes.get("pos"), cfg.pos_dim)
        dim += cfg.pos_dim if self.pos_emb is not None else 0
        self.feat_embs = None
        if sizes.get("morph"):
            self.feat_embs = nn.ModuleList([
                nn.Embedding(sizes["morph"], cfg.feat_dim, padding_idx=0),
                nn.Embedding(sizes["mpos"], max(cfg.pos_dim, 8), padding_idx=0),
                nn.Embedding(sizes["position"], 8, padding_idx=0)])
            dim += cfg.feat_dim + max(cfg.pos_dim, 8) + 8
        self.bigram_emb = self._opt_emb(sizes.get("bigrams"), cfg.bigram_dim)
        dim += cfg.bigram_dim if self.bigram_emb is not None else 0
        self.in_norm = nn.LayerNorm(dim) if cfg.layer_norm else nn.Identity()
        self.drop = nn.Dropout(cfg.dropout)
        self.rnn = StackedRNN(cfg.rnn_type, dim, cfg.hidden_size, cfg.num_layers,
                              cfg.bidirectional, cfg.dropout)
        out = cfg.hidden_size * (2 if cfg.bidirectional else 1)
        self.out_norm = nn.LayerNorm(out) if cfg.layer_norm else nn.Identity()
        self.proj = nn.Linear(out, len(tags))
        self.crf = CRF(len(tags), *bio_constraints(tags)) if cfg.use_crf else None

    @staticmethod
    def _opt_emb(n: Optional[int], dim: int) -> Optional[nn.Embedding]:
        return nn.Embedding(n, dim, padding_idx=0) if n and dim > 0 else None

    def _unk(self, ids: torch.Tensor) -> torch.Tensor:
        """Word dropout: in training, a real id becomes <unk> (1) with p = unk_dropout,
        so the model learns to tag what it has not seen."""
        p = self.cfg.unk_dropout
        if not self.training or p <= 0:
            return ids
        return ids.masked_fill((torch.rand(ids.shape, device=ids.device) < p) & (ids > 1), 1)

    def embed(self, batch: dict) -> torch.Tensor:
        parts = [self.word_emb(self._unk(batch["words"]))]              # (B, T, E)
        if self.char_enc is not None:
            parts.append(self.char_enc(batch["chars"]))                 # (B, T, H_c)
        if self.pos_emb is not None:
            parts.append(self.pos_emb(batch["pos"]))
        if self.feat_embs is not None:
            feats = batch["feats"]                                      # (B, T, 3)
            parts.append(self.feat_embs[0](self._unk(feats[..., 0])))    # morpheme form
            parts += [emb(feats[..., i]) for i, emb in enumerate(self.feat_embs) if i > 0]
        if self.bigram_emb is not None:
            parts.append(self.bigram_emb(self._unk(batch["bigrams"])))
        return self.in_norm(torch.cat(parts, dim=-1))                   # (B, T, D)

    def forward(self, batch: dict) -> torch.Tensor:
        x = self.drop(self.embed(batch))                                # (B, T, D)
        h = self.rnn(x, batch["mask"])                                  # (B, T, H*dirs)
        return self.proj(self.drop(self.out_norm(h)))                   # (B, T, C)

    def loss(self, batch: dict) -> torch.Tensor:
        """Mean loss per real token, from the batch's gold ``tags``."""
        em, mask, gold = self(batch), batch["mask"], batch["tags"]
        n = mask.sum()
        if self.crf is not None:
            return self.crf.nll(em.float(), gold, mask) / n
        # every position, padding weighted 0: no boolean indexing, so no host sync on CUDA
        ce = nn.functional.cross_entropy(em.flatten(0, 1).float(), gold.flatten(), reduction="none")
        return (ce * mask.flatten()).sum() / n

    @torch.no_grad()
    def predict(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Best tag ids (B, T) and each tag's confidence (B, T)."""
        em, mask = self(batch).float(), batch["mask"]
        if self.crf is not None:
            best = self.crf.decode(em, mask)
            probs = self.crf.marginals(em, mask)
        else:
            probs = em.softmax(-1)
            best = constrained_argmax(probs.clamp_min(1e-12).log(), mask, self.tags)
        conf = probs.gather(2, best.unsqueeze(2)).squeeze(2) * mask
        return best, conf

