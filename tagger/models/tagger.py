"""The BiLSTM/GRU(-CRF) tagger: NCRF++'s layering (characters -> token ->
sequence -> inference) with Flair's keyword names; and ``TaggerModel``, the
trained tagger (module, vocabularies, tokenizer) that predicts on raw text
and saves as ``model.json`` (kind ``tagger``) plus ``weights.pt``.

``forward`` maps a padded, masked batch to emissions (B, T, C). The module
holds no state between batches.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import torch
from torch import nn

from tagger.core.units import token_tags_to_spans
from tagger.models.crf import CRF, bio_constraints, constrained_argmax
from tagger.models.encoding import Vocabs, encode, length_batches
from tagger.models.layers import CELLS, CharEncoder, StackedRNN
from tagger.models.saving import SavedModel, config_from_json
from tagger.core import TaggerError

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
    aux_pos_weight: float = 0.0     # multi-task: + weight x silver-POS cross-entropy per unit (training only), 0 = off

class Tagger(nn.Module):
    """Inputs (dict of tensors, B x T unless said): ``words``; ``mask`` (bool);
    optional ``chars`` (B, T, L), ``pos``, ``feats`` (B, T, 3: morpheme form,
    morpheme POS, position), ``bigrams``; in training ``tags`` and, with
    ``aux_pos_weight`` > 0, ``aux_pos`` (silver POS ids, 0 = none). The
    auxiliary head (``aux_head``) is trained through :meth:`loss` only:
    ``forward`` and ``predict`` never use it."""

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
        # built last, so that every other parameter draws the same initial values as without it
        self.aux_head = nn.Linear(out, sizes["aux_pos"]) if cfg.aux_pos_weight > 0 and sizes.get("aux_pos") else None

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

    def features(self, batch: dict) -> torch.Tensor:
        """What the output layers read: the dropped-out, normalised RNN states."""
        x = self.drop(self.embed(batch))                                # (B, T, D)
        h = self.rnn(x, batch["mask"])                                  # (B, T, H*dirs)
        return self.drop(self.out_norm(h))                              # (B, T, H*dirs)

    def forward(self, batch: dict) -> torch.Tensor:
        return self.proj(self.features(batch))                          # (B, T, C)

    def loss(self, batch: dict) -> torch.Tensor:
        """Mean loss per real token, from the batch's gold ``tags``; with the
        auxiliary head and ``aux_pos`` in the batch, plus ``aux_pos_weight``
        times the mean silver-POS cross-entropy per labelled unit."""
        h = self.features(batch)
        em, mask, gold = self.proj(h), batch["mask"], batch["tags"]
        n = mask.sum()
        if self.crf is not None:
            main = self.crf.nll(em.float(), gold, mask) / n
        else:
            main = _masked_ce(em, gold, mask) / n
        if self.aux_head is None or "aux_pos" not in batch:
            return main
        silver = batch["aux_pos"]                                       # (B, T), 0 = no label
        has = mask & (silver > 0)
        aux = _masked_ce(self.aux_head(h), silver, has) / has.sum().clamp_min(1)
        return main + self.cfg.aux_pos_weight * aux

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


def _masked_ce(logits: torch.Tensor, gold: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Summed cross-entropy of (B, T, C) ``logits`` against (B, T) ``gold`` over
    every position, ``weight`` (B, T) 0 where it does not count: no boolean
    indexing, so no host sync on CUDA."""
    ce = nn.functional.cross_entropy(logits.flatten(0, 1).float(), gold.flatten(), reduction="none")
    return (ce * weight.flatten()).sum()


@torch.no_grad()
def decode_encoded(module: Tagger, enc, batch_size: int) -> list[tuple[list[str], list[float]]]:
    """Tags and confidences per sentence, in the original order."""
    module.eval()
    out: list = [([], [])] * len(enc)
    device = next(module.parameters()).device
    nonempty = torch.nonzero(enc.lengths > 0).squeeze(1)
    lengths = enc.lengths[nonempty]
    for idx, max_len in length_batches(lengths, batch_size, shuffle=False):
        rows = nonempty[idx]
        best, conf = module.predict(enc.batch(rows.to(device), max_len))
        best, conf = best.cpu().tolist(), conf.cpu().tolist()
        for r, b, c in zip(rows.tolist(), best, conf):
            n = int(enc.lengths[r])
            out[r] = ([module.tags[i] for i in b[:n]], c[:n])
    return out


class TaggerModel(SavedModel):
    """A trained tagger. ``model.json`` keeps ``tags``, ``vocabs`` and, under
    ``weights``, the torch version too; everything else is ``meta``."""
    KIND = "tagger"
    NOT_META = ("vocabs", "tags", "tokenizer", "weights")
    RECORD_TORCH = True

    def __init__(self, module: Tagger, vocabs: Vocabs, tokenizer: str, tokenizer_version: str, meta: dict):
        self.module, self.vocabs = module, vocabs
        self.tokenizer, self.tokenizer_version, self.meta = tokenizer, tokenizer_version, meta

    @staticmethod
    def spans(tokens, tags, conf):
        return token_tags_to_spans(tokens, tags, conf)

    def predict(self, texts: Sequence[str], batch_size: int = 64, token_lists=None) -> list[dict]:
        """JSON-able predictions, one per text: ``text``, ``tokens`` (surface
        ``text``, ``start``, ``end``, ``tag``, ``confidence``, ``form``/``pos``
        where the tokenizer has them) and ``entities`` (``text``, ``label``,
        ``start``, ``end``, ``score``)."""
        if token_lists is None:
            from tagger.tokenizers import get_tokenizer
            token_lists = get_tokenizer(self.tokenizer).tokenize_many(list(texts), cache=True).tokens
        enc = encode(token_lists, self.vocabs)
        decoded = decode_encoded(self.module, enc, batch_size)
        return [self._result(t, toks, tags, conf) for t, toks, (tags, conf) in zip(texts, token_lists, decoded)]

    def _result(self, text, toks, tags, conf) -> dict:
        tokens = []
        for tok, tag, c in zip(toks, tags, conf):
            d = {"text": tok.text, "start": tok.start, "end": tok.end, "tag": tag, "confidence": round(c, 4)}
            if tok.form is not None:
                d["form"] = tok.form
            if tok.pos is not None:
                d["pos"] = tok.pos
            tokens.append(d)
        ents = [{"text": text[s.start:s.end], "label": s.label, "start": s.start, "end": s.end,
                 "score": round(score, 4)} for s, score in self.spans(toks, tags, conf)]
        return {"text": text, "tokens": tokens, "entities": ents}

    # ---- the SavedModel hooks -----------------------------------------------------
    def describe(self) -> tuple[dict, object]:
        return {"tags": list(self.vocabs.tags), "vocabs": self.vocabs.to_json()}, self.module

    @classmethod
    def check(cls, desc: dict, path: Path) -> None:
        missing = [k for k in ("weights", "vocabs", "tokenizer", "tags") if not isinstance(desc.get(k), (dict, list))]
        if missing or not isinstance(desc["weights"], dict) or "sha256" not in desc["weights"]:
            raise TaggerError(f"{path}: incomplete model description "
                              f"(missing {', '.join(missing) or 'weights.sha256'})")

    @classmethod
    def rebuild(cls, desc: dict, meta: dict, data, where: Path) -> "TaggerModel":
        cfg = config_from_json(TaggerConfig, desc.get("tagger_config", {}), where)
        vocabs = Vocabs.from_json(desc["vocabs"])
        module = Tagger(cfg, vocabs.sizes(), vocabs.tags)
        return cls(module, vocabs, desc["tokenizer"]["name"], desc["tokenizer"]["version"], meta)


def read_model_json(d) -> dict:
    """The checked ``model.json`` of a tagger directory."""
    return TaggerModel.read(d)


__all__ = ["Tagger", "TaggerConfig", "TaggerModel",
           "decode_encoded", "read_model_json"]
