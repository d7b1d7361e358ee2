"""The one configuration object. Built at each edge (CLI, Slack, evals) and passed down;
nothing else in paperbot reads the environment.

Every field can be set as ``PAPERBOT_<SECTION>__<FIELD>`` (for example
``PAPERBOT_RETRIEVAL__TOP_K=8``) or from a ``.env`` file in the working directory.
This class is the configuration reference: each field says what it does and why its
default is what it is.

The sections are declared here, in the lowest layer, with the root that composes them: the
index needs the root (its data folder, the BM25 stemmer) and every edge builds one object.
One module per section:

- storage.py: ``IndexSettings`` (``PAPERBOT_INDEX__*``)
- retrieval.py: ``RetrievalSettings`` (``PAPERBOT_RETRIEVAL__*``)
- answer.py: ``AnswerSettings`` (``PAPERBOT_ANSWER__*``)
- llm.py: ``LLMSettings`` (``PAPERBOT_LLM__*``)
- slack.py: ``SlackSettings`` (``PAPERBOT_SLACK__*``)
- feed.py: ``FeedSettings`` (``PAPERBOT_FEED__*``)
- digest.py: ``DigestSettings`` (``PAPERBOT_DIGEST__*``)
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.settings.answer import AnswerSettings
from index.settings.digest import DigestSettings
from index.settings.feed import FeedSettings
from index.settings.llm import LLMSettings
from index.settings.retrieval import RetrievalSettings
from index.settings.slack import SlackSettings
from index.settings.storage import BUNDLED_CORPUS, IndexSettings

__all__ = [
    "AnswerSettings", "BUNDLED_CORPUS", "DigestSettings", "FeedSettings", "IndexSettings", "LLMSettings", "RECORDED_STORES", "RetrievalSettings",
    "Settings", "SlackSettings", "index_fingerprint",
]  # fmt: skip


class Settings(BaseSettings):
    """All of paperbot's configuration."""

    model_config = SettingsConfigDict(
        env_prefix="PAPERBOT_",
        env_nested_delimiter="__",
        env_file=".env",
        # A team's .env also holds other tools' keys: read only ours from it, as from the
        # environment. Unknown keys inside our sections still fail.
        dotenv_filtering="only_existing",
        extra="forbid",
    )

    index: IndexSettings = Field(default_factory=IndexSettings, description="Ingest and storage.")
    retrieval: RetrievalSettings = Field(
        default_factory=RetrievalSettings, description="Hybrid retrieval and refusal."
    )
    answer: AnswerSettings = Field(default_factory=AnswerSettings, description="Answering.")
    llm: LLMSettings = Field(default_factory=LLMSettings, description="Answer generation backend.")
    slack: SlackSettings = Field(default_factory=SlackSettings, description="The Slack bot.")
    feed: FeedSettings = Field(default_factory=FeedSettings, description="Following arXiv.")
    digest: DigestSettings = Field(default_factory=DigestSettings, description="The channel digest.")
    slack_bot_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token"), exclude=True,
        description="Slack's conventional SLACK_BOT_TOKEN, copied into slack.bot_token.",
    )
    slack_app_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token"), exclude=True,
        description="Slack's conventional SLACK_APP_TOKEN, copied into slack.app_token.",
    )
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret"), exclude=True,
        description="Slack's conventional SLACK_SIGNING_SECRET, copied into slack.signing_secret.",
    )
    openai_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("OPENAI_API_KEY", "openai_api_key"),
        description="The usual OPENAI_API_KEY, used when PAPERBOT_LLM__API_KEY is unset.",
        exclude=True,
    )

    @model_validator(mode="after")
    def _default_api_key(self) -> "Settings":
        if self.llm.api_key is None and self.openai_api_key is not None:
            self.llm.api_key = self.openai_api_key
        for name in ("bot_token", "app_token", "signing_secret"):
            conventional = getattr(self, f"slack_{name}")
            if getattr(self.slack, name) is None and conventional is not None:
                setattr(self.slack, name, conventional)
        return self

    @property
    def index_dir(self) -> Path:
        return self.index.data_dir / "indexes" / self.index.name

    @property
    def cache_path(self) -> Path:
        return self.index.data_dir / "embeddings.sqlite"

    @property
    def traces_path(self) -> Path:
        return self.index.data_dir / "traces.sqlite"

    @property
    def feed_dir(self) -> Path:
        """The arXiv feed's state: the request pacer (shared by every index of the data dir, as
        arXiv's limit is per client) and each index's harvest cursors."""
        return self.index.data_dir / "feed"

    @property
    def digest_path(self) -> Path:
        """Channels' digest settings, what each was sent and its votes, and when each paper of an
        index was first seen (bot/digest/store.py)."""
        return self.index.data_dir / "digests.sqlite"


INDEX_FORMAT = 3  # 2: chunk vectors in each generation (vectors.npy), searched by readers;
# 3: BM25 as term counts scored at query time (index/lexical.py), updated incrementally


RECORDED_STORES = {"exact": "embedded", "chroma-server": "server"}


def index_fingerprint(settings: Settings) -> dict[str, object]:
    """Everything besides the papers that decides an index's contents: recorded in each
    generation's manifest, and checked when the index is opened."""
    s = settings.index
    return {
        "format": INDEX_FORMAT,
        # onnx and sentence-transformers run the same model to the same vectors.
        "embedder": "fake" if s.embedder == "fake" else "sentence-transformers",
        "model": s.model,
        "max_tokens": s.max_tokens,
        "chunk_tokens": s.chunk_tokens,
        "chunk_overlap_sentences": s.chunk_overlap_sentences,
        "max_chunks": s.max_chunks,
        "bm25_stemmer": settings.retrieval.bm25_stemmer,
        # Where the vectors live, under the names generations have recorded since before the
        # store registry: "embedded" (exact: in the generation's folder) and "server" (Chroma).
        "vector_store": RECORDED_STORES.get(s.store_name, s.store_name),
    }
