import sys

import pytest

from index.errors import ConfigError
from bot.llm.registry import load_generator
from index.settings import LLMSettings, Settings


@pytest.mark.parametrize(
    "backend, module",
    [("ollama", "llama_index.llms.ollama"), ("openai-compatible", "llama_index.llms.openai_like"),
     ("openai", "llama_index.llms.openai"), ("llama-cpp", "llama_index.llms.llama_cpp")],
)  # fmt: skip
def test_missing_extra_says_how_to_install(monkeypatch, backend, module):
    monkeypatch.setitem(sys.modules, module, None)  # makes the import fail
    with pytest.raises(ConfigError, match=rf"pip install '\.\[{backend}\]'"):
        load_generator(LLMSettings(backend=backend, model="m", base_url="http://127.0.0.1:1", api_key="k"))


def test_extractive_has_no_generator_and_config_errors_are_clear():
    assert load_generator(LLMSettings()) is None
    with pytest.raises(ConfigError, match="BASE_URL"):
        load_generator(LLMSettings(backend="openai-compatible"))


def test_api_key_is_secret(monkeypatch):
    monkeypatch.setenv("PAPERBOT_LLM__API_KEY", "sk-very-secret")
    s = Settings()
    assert s.llm.api_key.get_secret_value() == "sk-very-secret"
    assert "sk-very-secret" not in repr(s) + str(s) + s.model_dump_json()


def test_dotenv_with_slack_names_and_other_tools_keys(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "SLACK_BOT_TOKEN=xoxb-file\nSLACK_SIGNING_SECRET=s3\nSOME_OTHER_TOOL=1\nPAPERBOT_RETRIEVAL__TOP_K=7\n"
    )
    s = Settings()
    assert s.slack.bot_token.get_secret_value() == "xoxb-file" and s.retrieval.top_k == 7
    (tmp_path / ".env").write_text("PAPERBOT_RETRIEVAL__TOPK=3\n")  # a typo in our own section
    with pytest.raises(Exception, match="topk"):
        Settings()
