"""How `curate eval` asks a model: an OpenAI-compatible endpoint or a local transformers model.

Both have `generate(config_name, model, prompts, advance) -> answers` (answers in prompt order)
and `close()`. Decoding is greedy for both: temperature 0 on endpoints, do_sample=False locally.
Given a `ReplyLog`, both answer from it what an interrupted run already received, and add each
new reply to it as it arrives (`replylog`). An endpoint is sent each distinct request once.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from urllib.parse import urlsplit

from curate.errors import BackendError, ConfigError
from curate.evaluation.config import EvalConfig
from curate.evaluation.replylog import ReplyLog, reply_key

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
SLEEP = time.sleep  # the waits between retries; tests replace it


def endpoint_key(config: EvalConfig) -> str | None:
    """The API key from `$api_key_env`, or None: with --no-key, or when a loopback endpoint
    has none set. A local server (vLLM on 127.0.0.1) usually needs no key, so a missing key is
    an error only for remote endpoints; --no-key sends none even to a remote one."""
    from curate.endpoint import api_key_from_env, optional_key

    if config.no_key:
        return None
    if urlsplit(config.endpoint or "").hostname in LOOPBACK:
        return optional_key(config.api_key_env)
    try:
        return api_key_from_env(config.api_key_env)
    except ConfigError as exc:
        raise ConfigError(f"{exc} (or pass --no-key for an endpoint that needs none)") from None


def _fatal(exc: BackendError) -> bool:
    """Errors that would repeat for every riddle (key, unknown model, busy after retries,
    unreachable). A request the server took but never answered in --timeout (a long
    generation, a stuck worker) may be this riddle's alone; if every one is, `generate` stops."""
    from curate.endpoint import RequestTimeout

    if isinstance(exc, RequestTimeout):
        return False
    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None)
    return status is None or status in (401, 403, 404) or status >= 429 or code == 20012


def _lookup(replies: ReplyLog | None, keys: list[str]) -> list[str | None]:
    return [replies.get(k) for k in keys] if replies is not None else [None] * len(keys)


def _keep(replies: ReplyLog | None, key: str, answer: str | Exception) -> None:
    """Keep a reply as it arrives; an error for one riddle is not kept, so a rerun retries it."""
    if replies is not None and isinstance(answer, str):
        replies.add(key, answer)


class EndpointBackend:
    """Chat completions with at most `concurrency` requests in flight; answers in input order."""

    def __init__(self, config: EvalConfig, replies: ReplyLog | None = None) -> None:
        from curate.endpoint import Client

        self.config = config
        self.replies = replies
        self.client = Client(
            config.endpoint,
            endpoint_key(config),
            key_env=config.api_key_env,
            max_wait=config.max_wait,
            timeout=config.timeout,
            sleep=SLEEP,
        )

    def generate(
        self, name: str, model: str, prompts: list[list[dict]], advance: Callable[[int], None]
    ) -> list[str | Exception]:
        params = {"temperature": 0.0, "max_tokens": self.config.max_tokens}
        keys = [reply_key(self.config.endpoint, model, p, params) for p in prompts]
        kept = _lookup(self.replies, keys)
        answers: list[str | Exception] = [k or "" for k in kept]
        # Identical requests (a riddle twice in the data; the judge shown the same reply to the
        # same riddle by two configs) are sent once: greedy decoding gives them one reply.
        todo: dict[str, list[int]] = {}
        for i, k in enumerate(kept):
            if k is None:
                todo.setdefault(keys[i], []).append(i)
        advance(len(prompts) - sum(map(len, todo.values())))
        with ThreadPoolExecutor(max_workers=self.config.concurrency) as pool:
            futures = {
                pool.submit(self.client.chat, model, prompts[same[0]], **params): key
                for key, same in todo.items()
            }
            try:
                for future in as_completed(futures):
                    key = futures[future]
                    answer = self._answer(future.result)
                    for i in todo[key]:
                        answers[i] = answer
                    _keep(self.replies, key, answer)
                    advance(len(todo[key]))
            except BaseException as exc:
                pool.shutdown(wait=True, cancel_futures=True)
                # Requests in flight when the run stopped were still answered (and paid for).
                for future, key in futures.items():
                    if future.done() and not future.cancelled() and not future.exception():
                        _keep(self.replies, key, future.result())
                if getattr(exc, "code", None) == 20012:
                    raise BackendError(
                        f"{name}: model {model!r} does not exist or is not ready (code 20012); "
                        "check the id copied from the console, or wait for the job to finish"
                    ) from None
                raise
        failed = [a for a in answers if isinstance(a, Exception)]  # per-riddle errors
        if failed and len(failed) == len(prompts):
            raise BackendError(f"every request for {name} ({model}) failed: {failed[0]}")
        return answers

    @staticmethod
    def _answer(result: Callable[[], str]) -> str | Exception:
        """The answer, or the error of a request that failed for this riddle only."""
        try:
            return result()
        except BackendError as exc:
            if _fatal(exc):
                raise
            return exc  # e.g. a 400 from a content filter: scored wrong, recorded with the error

    def close(self) -> None:
        self.client.close()


class LocalBackend:
    """Batched greedy generation with transformers.

    The base configs run on the plain model; `finetuned` on the model with the adapter merged
    in (`load_for_inference`). The two are loaded one after the other, never both at once, so
    peak memory is one model.
    """

    def __init__(self, config: EvalConfig, replies: ReplyLog | None = None) -> None:
        from curate.training.base import check_versions, missing_extra

        check_versions()
        try:
            from curate.training.local import load_for_inference
        except ImportError as exc:
            raise (missing_extra(exc) or exc) from None
        self.config = config
        self.replies = replies
        self._load = load_for_inference
        self._loaded: bool | None = None  # None: nothing yet; True: the adapter is merged in
        self.model = self.tokenizer = None

    def generate(
        self, name: str, model: str, prompts: list[list[dict]], advance: Callable[[int], None]
    ) -> list[str]:
        self._ensure(with_adapter=name == "finetuned")
        texts = [
            self.tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True)
            for p in prompts
        ]
        # Similar lengths in a batch waste less padding; answers go back to input order.
        order = sorted(range(len(texts)), key=lambda i: (len(texts[i]), i))
        answers = [""] * len(texts)
        size = self.config.batch_size
        who = self._identity(name == "finetuned")
        for start in range(0, len(order), size):
            batch = order[start : start + size]
            batch_texts = [texts[i] for i in batch]
            # Padding makes a reply depend a little on its batch: a kept reply is reused only
            # for the same batch, and a batch is generated whole or not at all.
            keys = [reply_key(who, model, batch_texts, texts[i]) for i in batch]
            kept = _lookup(self.replies, keys)
            if any(k is None for k in kept):
                kept = self._batch(batch_texts)
                for key, answer in zip(keys, kept, strict=True):
                    _keep(self.replies, key, answer)
            for i, answer in zip(batch, kept, strict=True):
                answers[i] = answer
            advance(len(batch))
        return answers

    def _identity(self, with_adapter: bool) -> list:
        """What the replies depend on besides the prompt: the model, the adapter's files (a
        retrained adapter in the same folder is another model), the decoding."""
        adapter = []
        if with_adapter and self.config.adapter:
            files = sorted(Path(self.config.adapter).glob("adapter_*"))
            adapter = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files]
        return [str(self.config.model), adapter, self.config.max_tokens]

    def _ensure(self, with_adapter: bool) -> None:
        if self._loaded == with_adapter:
            return
        self.close()  # free the other variant before loading this one
        adapter = str(self.config.adapter) if with_adapter else None
        self.model, self.tokenizer = self._load(str(self.config.model), adapter)
        self.tokenizer.padding_side = "left"  # generation continues at the right edge
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self._loaded = with_adapter

    def _batch(self, texts: list[str]) -> list[str]:
        import torch

        tok = self.tokenizer
        enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        enc = enc.to(self.model.device)
        with torch.inference_mode():
            out = self.model.generate(**enc, generation_config=self._greedy())
        new = out[:, enc["input_ids"].shape[1] :]
        return [tok.decode(row, skip_special_tokens=True).strip() for row in new]

    def _greedy(self):
        """The model's generation config (its eos ids) made plain greedy: no sampling knobs,
        no repetition penalty (Qwen2.5 ships 1.05), so every config decodes the same way."""
        config = copy.deepcopy(self.model.generation_config)
        # Neutral values rather than None: None would be refilled from the model's own config.
        config.update(do_sample=False, temperature=1.0, top_p=1.0, top_k=50)
        config.update(repetition_penalty=1.0, num_beams=1, max_new_tokens=self.config.max_tokens)
        config.pad_token_id = self.tokenizer.pad_token_id
        return config

    def close(self) -> None:
        if self.model is None:
            return
        import gc

        import torch

        self.model = self.tokenizer = None
        self._loaded = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
