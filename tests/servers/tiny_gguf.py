"""A tiny random-weight llama model in GGUF, so a real llama.cpp server runs with no download.

The model is deterministic (fixed seed) and a few hundred kB. Its vocabulary is
SentencePiece-shaped (``tokenizer.ggml.model = "llama"``) with byte fallback, so any prompt
tokenizes: ``<unk>``, ``<s>``, ``</s>``, the 256 ``<0xNN>`` byte tokens, the ChatML specials
``<|im_start|>``/``<|im_end|>``, and a few word and multi-byte pieces (é, 中, 🎉 …) so replies
exercise UTF-8 and JSON escapes. The chat template is ChatML.

The weights are random except for one trick that makes the model's behaviour predictable:
residual dimension 0 holds a constant that no layer writes to and no layer reads, so the final
norm always sees a positive value there. The output rows of the tokens the model must never
produce (end of sequence, control tokens, bytes that are not printable ASCII) weigh that
dimension by a large negative number and nothing else, while the allowed rows contain one
``w, -w`` pair (so some allowed logit is always >= 0). Hence the model never stops on its own,
never emits a control token, and always produces valid UTF-8: a reply ends only at
``max_tokens``, a stop sequence or the end of the context — what the tests rely on.

Run ``python -m tests.servers.tiny_gguf DIR`` to write the file and print its path.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import os
import sys
import tempfile
from pathlib import Path

import gguf
import numpy as np
import numpy.typing as npt

__all__ = ["CHATML_TEMPLATE", "TinyLlamaSpec", "allowed_token_texts", "write_tiny_llama"]

#: The ChatML template; written exactly like this, llama-cpp-python recognises it as "chatml".
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

_SPACE = "\u2581"  # SentencePiece's visible space
_CHATML = ("<|im_start|>", "<|im_end|>")
#: Normal pieces after the byte tokens: words, punctuation and multi-byte characters
#: (2-, 3- and 4-byte UTF-8, the last needing a surrogate pair in JSON).
_PIECES = (
    _SPACE,
    *(
        _SPACE + word
        for word in ("the", "a", "llama", "notebook", "chat", "token", "stream", "model", "cell")
    ),
    "ing",
    "er",
    "é",
    "ü",
    "ñ",
    "中",
    "文",
    "→",
    "∑",
    "🎉",
    "🦙",
)
_PRINTABLE = frozenset(range(0x20, 0x7F)) | {0x0A}  # bytes the model may emit on their own


@dataclasses.dataclass(frozen=True)
class TinyLlamaSpec:
    """The parameters that determine the file (and its cache key)."""

    seed: int = 20261124
    n_embd: int = 64
    n_layer: int = 2
    n_head: int = 4
    n_head_kv: int = 2  # grouped-query attention, as most current models use
    n_ff: int = 128
    context_length: int = 4096
    name: str = "tiny-random-llama"


def _vocabulary() -> tuple[list[str], list[gguf.TokenType], list[float], list[bool]]:
    """Token texts, types, scores, and whether the model may generate each token."""
    texts: list[str] = []
    types: list[gguf.TokenType] = []
    scores: list[float] = []
    allowed: list[bool] = []

    def add(text: str, kind: gguf.TokenType, score: float, may_generate: bool) -> None:
        texts.append(text)
        types.append(kind)
        scores.append(score)
        allowed.append(may_generate)

    add("<unk>", gguf.TokenType.UNKNOWN, 0.0, False)
    add("<s>", gguf.TokenType.CONTROL, 0.0, False)
    add("</s>", gguf.TokenType.CONTROL, 0.0, False)
    for byte in range(256):
        add(f"<0x{byte:02X}>", gguf.TokenType.BYTE, 0.0, byte in _PRINTABLE)
    for special in _CHATML:
        add(special, gguf.TokenType.CONTROL, 0.0, False)
    for rank, piece in enumerate(_PIECES):
        # SentencePiece merges the highest-scoring pieces first; longer pieces score higher.
        add(piece, gguf.TokenType.NORMAL, -float(rank), True)
    return texts, types, scores, allowed


def allowed_token_texts() -> list[str]:
    """What each token the model can generate decodes to (for assertions about replies)."""
    texts, types, _, allowed = _vocabulary()
    out = []
    for text, kind, ok in zip(texts, types, allowed, strict=True):
        if not ok:
            continue
        if kind == gguf.TokenType.BYTE:
            out.append(chr(int(text[3:5], 16)))
        else:
            out.append(text.replace(_SPACE, " "))
    return out


def _weights(spec: TinyLlamaSpec, allowed: list[bool]) -> dict[str, npt.NDArray[np.float32]]:
    """All tensors, as numpy arrays in (out, in) order; gguf reverses them to ggml's order."""
    rng = np.random.default_rng(spec.seed)
    n, vocab = spec.n_embd, len(allowed)
    head_dim = n // spec.n_head

    def normal(scale: float, *shape: int) -> npt.NDArray[np.float32]:
        return rng.normal(0.0, scale, shape).astype(np.float32)

    def norm_ignoring_dim0() -> npt.NDArray[np.float32]:
        weight = np.ones(n, dtype=np.float32)
        weight[0] = 0.0  # layers never read the constant dimension
        return weight

    tensors: dict[str, npt.NDArray[np.float32]] = {}
    embedding = normal(0.1, vocab, n)
    embedding[:, 0] = 1.0  # the constant: every token puts 1.0 in dimension 0
    tensors["token_embd.weight"] = embedding

    for layer in range(spec.n_layer):
        prefix = f"blk.{layer}."
        out_proj = normal(0.5 / np.sqrt(n), n, n)
        out_proj[0, :] = 0.0  # layers never write to the constant dimension
        down = normal(0.5 / np.sqrt(spec.n_ff), n, spec.n_ff)
        down[0, :] = 0.0
        tensors |= {
            prefix + "attn_norm.weight": norm_ignoring_dim0(),
            prefix + "attn_q.weight": normal(1 / np.sqrt(n), spec.n_head * head_dim, n),
            prefix + "attn_k.weight": normal(1 / np.sqrt(n), spec.n_head_kv * head_dim, n),
            prefix + "attn_v.weight": normal(1 / np.sqrt(n), spec.n_head_kv * head_dim, n),
            prefix + "attn_output.weight": out_proj,
            prefix + "ffn_norm.weight": norm_ignoring_dim0(),
            prefix + "ffn_gate.weight": normal(1 / np.sqrt(n), spec.n_ff, n),
            prefix + "ffn_up.weight": normal(1 / np.sqrt(n), spec.n_ff, n),
            prefix + "ffn_down.weight": down,
        }

    tensors["output_norm.weight"] = np.ones(n, dtype=np.float32)
    output = np.zeros((vocab, n), dtype=np.float32)
    allowed_ids = np.flatnonzero(np.array(allowed))
    rows = normal(1.0, len(allowed_ids), n)
    rows[1] = -rows[0]  # one w, -w pair: max(w.x, -w.x) >= 0 for every hidden state x
    rows[:, 0] = 0.0
    output[allowed_ids] = rows[rng.permutation(len(allowed_ids))]
    output[~np.array(allowed), 0] = -20.0  # forbidden tokens: logit = -20 * (positive) < 0
    tensors["output.weight"] = output
    return tensors


def _cache_key(spec: TinyLlamaSpec) -> str:
    # The generator's own source is part of the key: changing the code makes a new file.
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(repr(dataclasses.astuple(spec)).encode())
    digest.update(importlib.metadata.version("gguf").encode())
    return digest.hexdigest()[:12]


def write_tiny_llama(directory: str | os.PathLike[str], spec: TinyLlamaSpec | None = None) -> Path:
    """Write the model into ``directory`` (reusing an identical earlier file); return its path."""
    spec = spec or TinyLlamaSpec()
    target = Path(directory) / f"{spec.name}-{_cache_key(spec)}.gguf"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)

    texts, types, scores, allowed = _vocabulary()
    # Written to a temporary name and renamed, so a concurrent reader never sees half a file.
    fd, partial = tempfile.mkstemp(dir=target.parent, suffix=".gguf.part")
    os.close(fd)
    try:
        writer = gguf.GGUFWriter(partial, "llama")
        writer.add_name(spec.name)
        writer.add_file_type(gguf.LlamaFileType.ALL_F32)
        writer.add_context_length(spec.context_length)
        writer.add_embedding_length(spec.n_embd)
        writer.add_block_count(spec.n_layer)
        writer.add_feed_forward_length(spec.n_ff)
        writer.add_head_count(spec.n_head)
        writer.add_head_count_kv(spec.n_head_kv)
        writer.add_rope_dimension_count(spec.n_embd // spec.n_head)
        writer.add_layer_norm_rms_eps(1e-5)
        writer.add_tokenizer_model("llama")
        writer.add_token_list(texts)
        writer.add_token_types(types)
        writer.add_token_scores(scores)
        writer.add_unk_token_id(texts.index("<unk>"))
        writer.add_bos_token_id(texts.index("<s>"))
        writer.add_eos_token_id(texts.index("</s>"))
        writer.add_add_bos_token(True)
        writer.add_add_eos_token(False)
        writer.add_chat_template(CHATML_TEMPLATE)
        for name, array in _weights(spec, allowed).items():
            writer.add_tensor(name, array)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return target


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.servers.tiny_gguf DIRECTORY", file=sys.stderr)
        return 2
    path = write_tiny_llama(argv[0])
    print(f"{path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
