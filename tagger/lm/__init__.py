"""Language models on the tagger's tokenizations: count-based n-grams
(interpolated Kneser-Ney, add-k), a window feed-forward LM and RNN LMs,
compared by perplexity per token and bits per character with one OOV policy.

    from tagger.lm import train_lm, load_lm, save_lm
    lm = train_lm(lines, kind="ngram", tokenizer="kkma")
    save_lm(lm, "models/lm"); lm = load_lm("models/lm")
    lm.evaluate(held_out_lines)["perplexity"]
    lm.complete("철수와 영희는 식탁에 앉아 사과를", top_k=5)
"""
from tagger.lm.common import LMDataConfig
from tagger.lm.io import load_lm, read_lm_json, save_lm
from tagger.lm.ngram import NgramConfig
from tagger.lm.rnn import RNNLMConfig
from tagger.lm.train import CONFIGS, KINDS, LMTrainConfig, train_defaults, train_lm
from tagger.lm.window import WindowConfig

__all__ = ["CONFIGS", "KINDS", "LMDataConfig", "LMTrainConfig", "NgramConfig", "RNNLMConfig",
           "WindowConfig", "load_lm", "read_lm_json", "save_lm", "train_defaults", "train_lm"]
