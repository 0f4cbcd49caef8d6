"""The learned free-text matcher: a logistic regression over character 2–5-grams and word
1–2-grams of the normalised text, trained at build time (`make train`, scikit-learn)
and shipped as weights (knowledge/model/faq_model.npz). At run time only numpy is used:
a message becomes a few hundred feature ids, their weight rows are summed, a softmax gives
one probability per topic. No model is downloaded; nothing is trained at start-up.

Topics are the FAQ entries plus the small-talk kinds (greeting, thanks, bye, insult,
human) and `off_topic`, trained on faq.yaml's examples augmented with SMS spellings,
typos and fillers (bench/faq_training.py, a build-time tool outside the installed
package). The weights record the hash of faq.yaml they were trained on: `clea-bot check`
fails when faq.yaml changed since.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.normalise import normalise, tokens_of

MODEL_FILE = Path(__file__).parent / "model" / "faq_model.npz"
CHAR_NGRAMS = (2, 5)


def features(text: str) -> dict[str, float]:
    """Feature counts of a message: 'c:' character n-grams of the normalised text (within
    word boundaries padded with spaces), 'w:' stems, 'b:' pairs of consecutive stems."""
    norm = normalise(text)
    out: dict[str, float] = {}
    padded = f" {norm} "
    lo, hi = CHAR_NGRAMS
    for n in range(lo, hi + 1):
        for i in range(len(padded) - n + 1):
            gram = "c:" + padded[i : i + n]
            out[gram] = out.get(gram, 0.0) + 1.0
    stems = tokens_of(norm)
    for s in stems:
        out["w:" + s] = out.get("w:" + s, 0.0) + 1.0
    for a, b in zip(stems, stems[1:], strict=False):
        out[f"b:{a} {b}"] = out.get(f"b:{a} {b}", 0.0) + 1.0
    return out


def faq_hash(faq_file: Path) -> str:
    """Hash of what the model learns from: each entry's id and examples, and the small
    talk. Answers, titles and sources are edited without training again."""
    import json

    import yaml

    data = yaml.safe_load(faq_file.read_text(encoding="utf-8")) or {}
    view = {
        "entries": [
            [e.get("id"), e.get("examples")]
            for e in data.get("entries") or []
            if isinstance(e, dict)
        ],
        "small_talk": data.get("small_talk"),
    }
    return hashlib.sha256(
        json.dumps(view, ensure_ascii=False, sort_keys=True, default=str).encode()
    ).hexdigest()


@dataclass
class FaqModel:
    """Shipped weights. `scores` returns (labels sorted by probability, probabilities)."""

    labels: list[str]
    vocabulary: dict[str, int]
    idf: np.ndarray  # (n_features,)
    weights: np.ndarray  # (n_features, n_labels)
    bias: np.ndarray  # (n_labels,)
    threshold: float  # answer when the top topic leads the second by at least this much
    suggest_threshold: float  # below `threshold`: offer the top 3 when they hold this much
    faq_sha256: str
    # `threshold` for messages of several clauses (knowledge.faq.answering_threshold),
    # when their whole and their question part agree on the topic, and when they do not.
    long_threshold: float = 0.5
    conflict_threshold: float = 0.5

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> FaqModel:
        with np.load(path, allow_pickle=False) as data:
            vocab = [str(v) for v in data["vocabulary"]]
            return cls(
                labels=[str(v) for v in data["labels"]],
                vocabulary={v: i for i, v in enumerate(vocab)},
                idf=data["idf"].astype(np.float32),
                weights=data["weights"].astype(np.float32),
                bias=data["bias"].astype(np.float32),
                threshold=float(data["threshold"]),
                suggest_threshold=float(data["suggest_threshold"]),
                faq_sha256=str(data["faq_sha256"]),
                long_threshold=float(data["long_threshold"]),
                conflict_threshold=float(data["conflict_threshold"]),
            )

    def save(self, path: Path = MODEL_FILE) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        vocab = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        np.savez_compressed(
            path,
            labels=np.array(self.labels),
            vocabulary=np.array(vocab),
            idf=self.idf.astype(np.float16),
            weights=self.weights.astype(np.float16),
            bias=self.bias.astype(np.float32),
            threshold=np.float32(self.threshold),
            suggest_threshold=np.float32(self.suggest_threshold),
            faq_sha256=np.array(self.faq_sha256),
            long_threshold=np.float32(self.long_threshold),
            conflict_threshold=np.float32(self.conflict_threshold),
        )

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(feature ids, TF-IDF values, L2-normalised) of the features the model knows."""
        ids, tf = [], []
        for f, count in features(text).items():
            i = self.vocabulary.get(f)
            if i is not None:
                ids.append(i)
                tf.append(1.0 + math.log(count))
        if not ids:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        found = np.asarray(ids, dtype=np.int64)
        # One float32 product per feature, as the per-feature loop gave (numpy ≥ 2 keeps
        # a Python float times a float32 in float32), without indexing idf one by one.
        v = np.asarray(tf, dtype=np.float32) * self.idf[found]
        return found, v / (np.linalg.norm(v) or 1.0)

    @staticmethod
    def confidence(p: np.ndarray) -> float:
        """How far the best topic leads the second: with 54 topics, a margin separates
        "sure" from "torn between two" better than the top probability alone (measured on
        the evaluation set)."""
        top2 = np.partition(p, -2)[-2:]
        return float(top2[1] - top2[0])

    def probabilities(self, text: str) -> np.ndarray:
        ids, values = self.vector(text)
        logits = self.bias + (values @ self.weights[ids] if len(ids) else 0.0)
        logits = logits - logits.max()
        p = np.exp(logits)
        normalised: np.ndarray = p / p.sum()
        return normalised
