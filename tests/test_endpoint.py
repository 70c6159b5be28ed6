"""curate.endpoint (the openai SDK) against a real HTTP server on 127.0.0.1 (fake_siliconflow)."""

from __future__ import annotations

import re
import socket

import pytest
from fake_siliconflow import FakeSiliconFlow

from curate import redact
from curate.endpoint import ApiError, Client, api_key_from_env
from curate.errors import BackendError, ConfigError


@pytest.fixture
def delays() -> list[float]:
    return []


@pytest.fixture
def said() -> list[str]:
    return []


@pytest.fixture
def client(fake_api, delays, said):
    with Client(fake_api.url, fake_api.key, sleep=delays.append, notify=said.append, seed=0) as c:
        yield c
    redact.forget()


def test_chat_sends_openai_request_and_returns_text(fake_api, client):
    fake_api.reply = lambda model, messages: f"{model} says 水"
    msgs = [{"role": "user", "content": "什么东西越洗越脏？"}]
    assert client.chat("Qwen/Qwen2.5-7B-Instruct", msgs, max_tokens=8) == (
        "Qwen/Qwen2.5-7B-Instruct says 水"
    )
    sent = fake_api.calls("POST /v1/chat/completions")[0]
    assert sent.json == {"model": "Qwen/Qwen2.5-7B-Instruct", "messages": msgs, "max_tokens": 8}
    assert sent.headers["authorization"] == f"Bearer {fake_api.key}"


def test_upload_is_multipart_file_and_purpose_and_reads_envelope(fake_api, client, tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text('{"messages": []}\n', encoding="utf-8")
    data = client.upload_file(path, "fine-tune")
    assert data["id"] == "file-fake0001" and data["filename"] == "train.jsonl"
    sent = fake_api.calls("POST /v1/files")[0]
    assert sent.fields["purpose"] == "fine-tune"
    assert sent.fields["file"] == path.read_bytes()
    assert sent.filenames["file"] == "train.jsonl"


def test_models_lists_ids(fake_api, client):
    assert client.models() == fake_api.model_list


def test_retries_429_and_503_with_growing_jittered_backoff(fake_api, client, delays):
    fake_api.fail("POST /v1/chat/completions", 429, "rate limited", times=2)
    fake_api.fail("POST /v1/chat/completions", 503, {"code": 50505, "message": "busy"})
    assert client.chat("m", [{"role": "user", "content": "hi"}]) == "echo: hi"
    assert len(fake_api.calls("POST /v1/chat/completions")) == 4
    # backoff 1 s doubling, each delay jittered into [half, full] of its step
    for attempt, delay in enumerate(delays):
        assert 2**attempt * 0.5 <= delay <= 2**attempt
    again = []
    with Client(fake_api.url, fake_api.key, sleep=again.append, seed=0) as c2:
        fake_api.fail("POST /v1/chat/completions", 429, times=3)
        c2.chat("m", [{"role": "user", "content": "hi"}])
    assert again == delays  # same seed, same delays: deterministic


def test_gives_up_after_retries_with_code_and_message(fake_api, delays):
    overloaded = {"code": 50505, "message": "Model service overloaded. Please try again later."}
    fake_api.fail("POST /v1/chat/completions", 503, overloaded, times=10)
    with (
        Client(fake_api.url, fake_api.key, retries=2, sleep=delays.append) as c,
        pytest.raises(ApiError) as err,
    ):
        c.chat("m", [{"role": "user", "content": "hi"}])
    text = str(err.value)
    assert "HTTP 503" in text and "code 50505" in text and "overloaded" in text
    assert "after 3 attempts" in text
    assert len(delays) == 2


def test_retry_after_header_is_honoured(fake_api, client, delays):
    fake_api.fail("GET /v1/models", 429, "slow down", headers={"Retry-After": "7"})
    client.models()
    assert delays == [7.0]


def test_dropped_connection_is_retried(fake_api, client, delays):
    fake_api.fail("POST /v1/chat/completions", 0, "DROP")
    assert client.chat("m", [{"role": "user", "content": "hi"}]) == "echo: hi"
    assert len(delays) == 1


def test_unreachable_server_says_so_after_retries(delays):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    with (
        Client(url, "k", retries=2, sleep=delays.append) as c,
        pytest.raises(BackendError, match="could not reach .* after 3 attempts"),
    ):
        c.models()
    assert len(delays) == 2


def test_read_timeout_is_a_clear_error():
    with socket.socket() as s:  # accepts connections (backlog) but never answers
        s.bind(("127.0.0.1", 0))
        s.listen(4)
        url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
        with (
            Client(url, "k", timeout=0.2, retries=1, sleep=lambda _: None) as c,
            pytest.raises(BackendError, match="ReadTimeout"),
        ):
            c.models()


def test_401_plain_text_explains_the_key_without_showing_it(fake_api, delays):
    secret = "sk-wrong-key-9876543210"
    with Client(fake_api.url, secret, sleep=delays.append) as c, pytest.raises(ApiError) as err:
        c.chat("m", [{"role": "user", "content": "hi"}])
    text = str(err.value)
    assert "the API key in $SILICONFLOW_API_KEY was rejected" in text
    assert "HTTP 401: Invalid token" in text
    assert secret not in text and secret not in repr(c)
    assert delays == []  # a bad key is not retried


def test_403_mentions_verification_and_custom_key_env(fake_api):
    fake_api.fail("POST /v1/chat/completions", 403, "Forbidden")
    with Client(fake_api.url, fake_api.key, key_env="MY_KEY") as c, pytest.raises(ApiError) as e:
        c.chat("m", [{"role": "user", "content": "hi"}])
    assert "$MY_KEY was rejected" in str(e.value) and "real-name" in str(e.value)


def test_400_shows_api_code_and_message(fake_api, client):
    fake_api.pending["ft:LoRA/x"] = -1
    with pytest.raises(ApiError) as err:
        client.chat("ft:LoRA/x", [{"role": "user", "content": "hi"}])
    assert err.value.status == 400 and err.value.code == 20012
    assert "HTTP 400 (code 20012: Model does not exist" in str(err.value)


def test_404_plain_text_body(fake_api, client):
    fake_api.fail("GET /v1/models", 404, "404 page not found")
    with pytest.raises(ApiError, match="HTTP 404 .*404 page not found"):
        client.models()


def test_envelope_with_error_code_is_an_error(fake_api, client, tmp_path):
    bad = {"code": 20015, "message": "Value error, purpose", "status": False, "data": None}
    fake_api.fail("POST /v1/files", 200, bad)
    (tmp_path / "a.jsonl").write_text("{}\n")
    with pytest.raises(ApiError, match="code 20015: Value error"):
        client.upload_file(tmp_path / "a.jsonl", "fine-tune")


def test_echoed_key_is_redacted(fake_api, client):
    fake_api.fail("GET /v1/models", 400, {"code": 1, "message": f"bad key {fake_api.key}"})
    with pytest.raises(ApiError) as err:
        client.models()
    assert fake_api.key not in str(err.value) and "***" in str(err.value)


def test_no_key_client_sends_no_auth_and_names_the_variable():
    with FakeSiliconFlow(key=None) as open_api, Client(open_api.url) as c:
        assert c.chat("m", [{"role": "user", "content": "x"}]) == "echo: x"
        assert "authorization" not in open_api.requests[0].headers
    with (
        FakeSiliconFlow() as locked,
        Client(locked.url, key_env="VLLM_KEY") as c,
        pytest.raises(ApiError, match=r"needs an API key .*set \$VLLM_KEY"),
    ):
        c.models()


def test_api_key_from_env(monkeypatch):
    monkeypatch.delenv("SILICONFLOW_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="SILICONFLOW_API_KEY is not set.*account/ak"):
        api_key_from_env()
    monkeypatch.setenv("OTHER_KEY", " sk-1 \n")
    assert api_key_from_env("OTHER_KEY") == "sk-1"


def test_key_that_cannot_be_sent_is_a_config_error():
    with pytest.raises(ConfigError, match=r"\$SILICONFLOW_API_KEY has spaces or non-ASCII") as e:
        Client("http://127.0.0.1:9/v1", "sk-abc\uff11def")
    assert "sk-abc" not in str(e.value)


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://[::1/v1", "is not a valid URL (Invalid IPv6 URL)"),
        ("https://host:99999/v1", "is not a valid URL (Port out of range"),
        ("https://host:abc/v1", "is not a valid URL (Port could not be cast"),
        ("https:///v1", "has no host"),
        ("https://api.silicon flow.cn/v1", "has a space in it"),
    ],
)
def test_a_base_url_that_cannot_be_used_is_a_config_error(url, said):
    # "http://[::1" was "internal error: InvalidURL: Invalid port"; the others retried a
    # host that cannot exist until --max-wait ran out.
    with pytest.raises(ConfigError, match=re.escape(said)) as exc:
        Client(url, "sk-x")
    assert "e.g. https://api.siliconflow.cn/v1" in str(exc.value)


def test_bad_base_url_and_bad_json():
    with pytest.raises(ConfigError, match="must start with http"):
        Client("api.siliconflow.cn/v1")
    with FakeSiliconFlow() as api, Client(api.url, api.key) as c:
        api.fail("GET /v1/models", 200, "not json")
        with pytest.raises(BackendError, match="non-JSON"):
            c.models()
        api.fail("POST /v1/chat/completions", 200, {"unexpected": True})
        with pytest.raises(BackendError, match="unexpected chat answer"):
            c.chat("m", [])


def test_long_waits_say_what_they_wait_for(fake_api, client, delays, said):
    fake_api.fail("GET /v1/models", 429, "slow down", headers={"Retry-After": "7"})
    fake_api.fail("GET /v1/models", 503, "busy")  # backoff ~2 s: not announced
    client.models()
    assert delays[0] == 7.0 and delays[1] < 5
    assert len(said) == 1 and "HTTP 429; waiting 7s before try 2 of 5" in said[0]
    assert "/v1/models" in said[0] and "--max-wait 300s" in said[0]


def test_total_wait_is_capped_by_max_wait(fake_api, delays, said):
    fake_api.fail("GET /v1/models", 429, "slow down", headers={"Retry-After": "3600"})
    with (
        Client(fake_api.url, fake_api.key, sleep=delays.append, notify=said.append,
               max_wait=120) as c,
        pytest.raises(ApiError, match=r"next try would be in 3600s, .*--max-wait 120s"),
    ):  # fmt: skip
        c.models()
    assert delays == [] and said == []  # refused at once, not after an hour
    fake_api.fail("GET /v1/models", 503, "busy", times=10)
    with (
        Client(fake_api.url, fake_api.key, sleep=delays.append, backoff=20, max_wait=50) as c,
        pytest.raises(ApiError, match="passes --max-wait 50s"),
    ):
        c.models()
    assert sum(delays) <= 50


def test_gzip_header_on_a_plain_body_is_a_clear_error(fake_api, client, delays):
    fake_api.fail("GET /v1/models", 200, "plain text", headers={"Content-Encoding": "gzip"})
    with pytest.raises(BackendError, match="does not match its Content-Encoding"):
        client.models()
    assert delays == []  # not retried: the answer is broken, not the network


def test_key_echoed_in_any_form_is_masked_before_it_is_cut(fake_api, client):
    key = fake_api.key
    echoes = [key, key[:9], key.replace("-", "%2D"), f"Bearer {key[:12]}"]
    for echo in echoes:
        fake_api.fail("GET /v1/models", 400, {"code": 1, "message": f"{'x' * 290} {echo}"})
        with pytest.raises(ApiError) as err:
            client.models()
        assert key[:8] not in str(err.value) and "%2D" not in str(err.value)
    fake_api.fail("POST /v1/chat/completions", 200, {"echo": {"authorization": f"Bearer {key}"}})
    with pytest.raises(BackendError) as err:
        client.chat("m", [])
    assert "unexpected chat answer" in str(err.value) and key[:8] not in str(err.value)


def test_credentials_in_the_base_url_are_never_shown(fake_api, delays):
    host = fake_api.url.split("//")[1]
    url = f"http://admin:hunter2-secret@{host}"
    fake_api.fail("GET /v1/models", 404, "404 page not found")
    with Client(url, fake_api.key, sleep=delays.append) as c, pytest.raises(ApiError) as err:
        c.models()
    assert "hunter2" not in str(err.value) + repr(c) and "http://***@127.0.0.1" in str(err.value)
    assert redact.redact("see hunter2-secret") == "see ***"
    redact.forget()
