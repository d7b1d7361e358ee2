"""Configuration files for `paperbot eval run`: TOML and YAML, validated against Settings."""

from pathlib import Path

import pytest

from index.errors import BadInput
from index.settings import Settings
from evals.configs import BASELINES, load_configs, with_baselines

EXAMPLES = Path(__file__).resolve().parents[1] / "evals" / "configs"


def test_bundled_examples_load_and_apply():
    base = Settings()
    for path in sorted(EXAMPLES.glob("example.*")):
        configs = load_configs(path)
        assert configs, path
        for c in with_baselines(configs):
            c.apply(base)  # every example validates against the real Settings


def test_toml_and_yaml_give_the_same_configuration(tmp_path: Path):
    (tmp_path / "a.toml").write_text(
        '[[configs]]\nname = "rrf8"\nretrieval = { fusion = "rrf", top_k = 8 }\nanswer = { max_citations = 2 }\n'
    )
    (tmp_path / "a.yaml").write_text("configs:\n  - name: rrf8\n    retrieval: {fusion: rrf, top_k: 8}\n    answer: {max_citations: 2}\n")
    (tmp_path / "single.yml").write_text("name: rrf8\nretrieval:\n  fusion: rrf\n  top_k: 8\nanswer:\n  max_citations: 2\n")
    loaded = [load_configs(tmp_path / f) for f in ("a.toml", "a.yaml", "single.yml")]
    assert loaded[0] == loaded[1] == loaded[2]
    s = loaded[0][0].apply(Settings())
    assert (s.retrieval.fusion, s.retrieval.top_k, s.answer.max_citations) == ("rrf", 8, 2)
    assert s.retrieval.mode == "hybrid" and s.index.name == "default"  # the rest is untouched
    assert Settings().retrieval.top_k == 5


def test_index_changes_get_their_own_index(tmp_path: Path):
    (tmp_path / "c.toml").write_text('name = "small"\nindex = { chunk_tokens = 96 }\n')
    (c,) = load_configs(tmp_path / "c.toml")
    s = c.apply(Settings())
    assert s.index.name.startswith("default-") and s.index.chunk_tokens == 96
    assert c.apply(Settings()).index.name == s.index.name  # stable: re-runs reuse it
    (tmp_path / "same.toml").write_text('name = "same"\nindex = { chunk_tokens = 256, batch_size = 8 }\n')
    (same,) = load_configs(tmp_path / "same.toml")
    assert same.apply(Settings()).index.name == "default"  # nothing that changes the index's contents
    (tmp_path / "stem.toml").write_text('name = "nostem"\nretrieval = { bm25_stemmer = "" }\n')
    assert load_configs(tmp_path / "stem.toml")[0].apply(Settings()).index.name != "default"


def test_secrets_are_masked_in_what_reports_show(tmp_path: Path):
    (tmp_path / "k.toml").write_text('name = "hosted"\nllm = { backend = "openai", api_key = "sk-live-123", model = "m" }\n')
    (c,) = load_configs(tmp_path / "k.toml")
    assert "sk-live-123" not in str(c.redacted()) and c.redacted()["llm"]["model"] == "m"
    assert c.apply(Settings()).llm.api_key.get_secret_value() == "sk-live-123"


@pytest.mark.parametrize(
    "text, suffix, message",
    [
        ('[[configs]]\nretrieval = { top_k = 3 }\n', ".toml", "needs a 'name'"),
        ('name = "x"\nretriever = { top_k = 3 }\n', ".toml", "unknown key(s) retriever"),
        ('name = "x"\nretrieval = 3\n', ".toml", "must be a table"),
        ('name = "x"\nretrieval = { top_k = 0 }\n', ".toml", "retrieval.top_k"),
        ('name = "x"\nretrieval = { fusion = "max" }\n', ".toml", "retrieval.fusion"),
        ('name = "x"\nretrieval = { topk = 3 }\n', ".toml", "retrieval.topk"),
        ('name = "x"\nindex = { data_dir = "/elsewhere" }\n', ".toml", "PAPERBOT_INDEX__DATA_DIR"),
        ("name = [", ".toml", "not valid TOML"),
        ("configs: [name: x", ".yaml", "not valid YAML"),
        ("name: x", ".json", "use .toml, .yaml or .yml"),
    ],
)
def test_bad_files_say_what_to_fix(tmp_path: Path, text: str, suffix: str, message: str):
    path = tmp_path / f"c{suffix}"
    path.write_text(text)
    with pytest.raises(BadInput) as e:
        for c in load_configs(path):
            c.apply(Settings())
    assert message in str(e.value)
    assert any(hint in str(e.value) for hint in ("example.toml", "not valid", "instead"))


def test_missing_file_and_duplicate_names(tmp_path: Path):
    with pytest.raises(BadInput, match="no such configuration file"):
        load_configs(tmp_path / "nope.toml")
    (tmp_path / "d.toml").write_text('name = "dense"\nretrieval = { top_k = 3 }\n')
    with pytest.raises(BadInput, match="used twice"):
        with_baselines(load_configs(tmp_path / "d.toml"))
    assert [c.name for c in BASELINES] == ["bm25", "dense", "hybrid"]
