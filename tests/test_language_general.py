"""Language detection on general text (bot/query/language.py): English questions about ML,
with model names, loans and typos, stay English; short questions in other languages are named.

Every sentence here was written for this file, in the style of questions to a paper bot and of
everyday sentences; none comes from paperbot's question sets. The function words are the
published stop-word lists of the `stop-words` package."""

import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from bot.query import language
from bot.query.language import function_words, non_english

ENGLISH = [
    "What is the difference between LoRA and QLoRA for fine-tuning large language models?",
    "Which papers compare Adam and SGD on ImageNet?",
    "How does Mistral's Le Chat compare to Claude on coding benchmarks?",
    "Is there a paper that evaluates CamemBERT and FlauBERT on French NER?",
    "Does the Wasserstein GAN paper use gradient penalty or weight clipping?",
    "Whcih papers use contrastive lerning for sentence embedings?",
    "Are there datasets of German news like Der Spiegel or Die Zeit for summarization?",
    "Which models were trained on the OSCAR corpus, per language, via deduplicated crawls?",
    "What are ad hoc retrieval methods that work a priori without relevance labels?",
    "How is the learning rate set in the original Transformer paper?",
    "Do vision transformers need more data than CNNs, and why?",
    "Any work on retrieval-augmented generation for legal documents in Spanish or Portuguese?",
    "What's the best way to distill a 70B model into a 7B one?",
    "Which benchmark did the paper use: SuperGLUE, MMLU or HellaSwag?",
    "Can diffusion models generate tabular data with mixed types?",
    "Papers on the 'Attention Is All You Need' architecture vs RNNs?",
    "How does the model handle compound words like 'Gesundheitswesen' or 'Schadenfreude'?",
    "Was BERT pretrained with next sentence prediction, and did RoBERTa drop it?",
    "Who proposed the DeBERTa model and what is its disentangled attention?",
    "Is there evidence that chain-of-thought prompting helps small models?",
    "Le Chat vs ChatGPT: which is better at summarization?",
    "state of the art on SQuAD 2.0?",
    "top-k vs top-p sampling?",
    "Does the E5 model use a contrastive pre-training stage on CCPairs?",
    "In what year was the Mixtral 8x7B model released and who made it?",
    "How do I fine tune Llama 2 on a single GPU with limited memory?",
    "Wich optimizr works best for trainig GANs on smal datasets?",
    "Are there papers on the Transformer-XL model from Dai et al.?",
    "Does the paper by De Vries et al. discuss visual dialog?",
    "How do Dutch and German BERT models like BERTje and GBERT compare?",
    "Is the data in the Common Crawl dump de-duplicated per se or only by URL?",
    "What are the main findings of the 'Sparks of AGI' paper on GPT-4?",
    "Can a model learn to solve math problems via self-play?",
    "Tell me about Mamba and state space models.",
    "Explain the role of the KL penalty in RLHF.",
    "GPT-4 vs Claude on MMLU: who wins?",
    "Is Bayesian optimization for hyperparameter tuning still used in deep learning?",
    "Which Italian models, like Minerva or Camoscio, were trained con dati italiani?",
    "Does CroissantLLM use a tokenizer trained on la Wikipédia française?",
    "Why do some neurons die during training with ReLU activations?",
    "Is there a model that can translate 'Wie geht es dir' into English reliably?",
    "How good is GPT-4 at the Spanish exam 'Selectividad' compared to students?",
    "Are sparse autoencoders a good way to find features in LLM activations?",
    "What is the role of the temperature in a softmax, and can it be learned?",
    "How do the authors of 'Pix2Seq' frame object detection as language modeling?",
    "Which papers use the MS MARCO passage ranking data set for dense retrieval?",
    "I want papers about in-context learning as implicit Bayesian inference",
    "Does dropout act as a regularizer in the same way as weight decay?",
    "What did Vaswani et al. propose in 2017?",
    "Can you list papers on federated learning with differential privacy?",
    "Which methods were proposed a priori, and which ones are ad hoc?",
    "Does t-SNE by van der Maaten and Hinton preserve global structure?",
    "What did von Neumann say about self-replicating automata?",
    "Is the effect of scaling de facto linear in log compute, or vice versa?",
    "Are in vitro and in vivo results for protein models consistent?",
    "How does Le Chat by Mistral handle long contexts compared to Gemini?",
    "Which papers from de Freitas or del Pino use reinforcement learning for control?",
    "Is per-token loss weighting useful per se when training small models?",
    "What are the main results of the paper on Orca, Vicuna and Alpaca?",
    "Does the Falcon model use multi-query attention, and is it open source?",
    "How is the F1 score computed on the SQuAD dev set?",
    "Papers about the status quo of evaluation in NLP, e.g. leaderboards?",
    "Is BLOOM trained on La Tour de Babel corpus or on ROOTS?",
    "Which dataset has questions like 'Qui a écrit Les Misérables?' for multilingual QA?",
    "Are there benchmarks for code-switching between Spanish and English, like LinCE?",
    "How do Kaiser, Gomez and Polosukhin contribute to the Transformer paper?",
    "Do GANs suffer from mode collapse more than VAEs do?",
    "whats the diff between ppo and dpo for rlhf",
    "any papers on kv cache compression for long context llms",
    "is there a paper that uses graph neural nets for molecule generation",
    "Can you find the paper where they train a model on Das Kapital and Le Capital?",
    "Who introduced the idea of 'Der Ring' scheduling for distributed training?",
    "Does the ALiBi paper compare to RoPE on extrapolation beyond the training length?",
    "What about Łukasz Kaiser's work on the Reformer and efficient attention?",
    "How did Schrödinger bridges get used in diffusion models?",
    "Is Erdős–Rényi graph generation a good baseline for graph models?",
    "Which papers evaluate Jais or AceGPT on Arabic benchmarks?",
]

FOREIGN = {
    "French": [
        "Quels articles proposent une méthode pour réduire la taille des modèles de langue?",
        "Existe-t-il des travaux sur l'apprentissage par renforcement avec des récompenses rares?",
        "Comment les auteurs évaluent-ils la robustesse de leur modèle face aux attaques adversariales?",
        "Je cherche un article qui compare les réseaux de neurones convolutifs et les transformeurs.",
        "Quelle est la meilleure façon d'entraîner un petit modèle sur peu de données?",
        "Pourquoi la normalisation par lots aide-t-elle l'entraînement des réseaux profonds?",
        "Est-ce que GPT-4 est meilleur que Llama sur les tâches de raisonnement?",
        "Il fait beau aujourd'hui, alors nous allons nous promener dans le parc.",
        "Est-ce qu'il y a des papers sur le retrieval augmented generation pour les documents longs?",
        "quels sont les meilleurs modeles pour la traduction automatique en 2024",
        "Y a-t-il un article qui explique pourquoi le fine-tuning avec LoRA marche si bien?",
    ],
    "Spanish": [
        "¿Qué artículos estudian la compresión de modelos de lenguaje grandes?",
        "¿Hay algún estudio sobre aprendizaje por refuerzo con recompensas escasas?",
        "¿Cómo se evalúa la robustez de un modelo frente a ejemplos adversarios?",
        "Busco un artículo que compare redes convolucionales y transformers en visión.",
        "¿Cuál es la mejor manera de entrenar un modelo pequeño con pocos datos?",
        "¿Por qué la normalización por lotes ayuda al entrenamiento de redes profundas?",
        "¿Es GPT-4 mejor que Llama en las tareas de razonamiento matemático?",
        "Mañana vamos a la playa con mis amigos si no llueve.",
        "hay algun paper sobre RAG con documentos largos y benchmarks de evaluacion?",
        "¿Qué modelos de lenguaje funcionan mejor para el español y por qué?",
        "Necesito un paper que explique el mecanismo de atención en los transformers.",
    ],
    "German": [
        "Welche Arbeiten beschäftigen sich mit der Kompression von großen Sprachmodellen?",
        "Gibt es Studien über bestärkendes Lernen mit seltenen Belohnungen?",
        "Wie bewerten die Autoren die Robustheit ihres Modells gegen adversariale Angriffe?",
        "Ich suche einen Artikel, der Faltungsnetze und Transformer vergleicht.",
        "Was ist der beste Weg, ein kleines Modell mit wenigen Daten zu trainieren?",
        "Warum hilft Batch-Normalisierung beim Training von tiefen Netzen so sehr?",
        "Ist GPT-4 bei Aufgaben zum logischen Denken besser als Llama?",
        "Morgen fahren wir mit dem Zug nach Berlin, wenn das Wetter gut ist.",
        "gibt es ein paper über retrieval augmented generation für lange dokumente?",
        "Welche Modelle sind am besten für maschinelle Übersetzung und warum?",
        "Kannst du mir ein Paper zeigen, das die Attention in Transformern erklärt?",
    ],
    "Italian": [
        "Quali articoli studiano la compressione dei grandi modelli linguistici?",
        "Esiste uno studio sull'apprendimento per rinforzo con ricompense rare?",
        "Come valutano gli autori la robustezza del loro modello contro gli attacchi avversari?",
        "Cerco un articolo che confronti le reti convoluzionali e i transformer.",
        "Qual è il modo migliore per addestrare un piccolo modello con pochi dati?",
        "Perché la normalizzazione del batch aiuta l'addestramento delle reti profonde?",
        "GPT-4 è migliore di Llama nei compiti di ragionamento?",
        "Domani andiamo al mare con gli amici se non piove.",
        "c'è qualche paper sul retrieval augmented generation per documenti lunghi?",
        "Quali sono i migliori modelli per la traduzione automatica e perché?",
        "Mi serve un articolo che spieghi il meccanismo di attenzione nei transformer.",
    ],
    "Portuguese": [
        "Quais artigos estudam a compressão de grandes modelos de linguagem?",
        "Existe algum estudo sobre aprendizado por reforço com recompensas esparsas?",
        "Como os autores avaliam a robustez do modelo contra ataques adversariais?",
        "Procuro um artigo que compare redes convolucionais e transformers em visão computacional.",
        "Qual é a melhor maneira de treinar um modelo pequeno com poucos dados?",
        "Por que a normalização em lote ajuda no treinamento de redes profundas?",
        "O GPT-4 é melhor do que o Llama em tarefas de raciocínio?",
        "Amanhã vamos à praia com os nossos amigos se não chover.",
        "tem algum paper sobre retrieval augmented generation para documentos longos?",
        "Quais são os melhores modelos para tradução automática e por quê?",
        "Preciso de um artigo que explique o mecanismo de atenção nos transformers.",
    ],
    "Dutch": [
        "Welke artikelen onderzoeken de compressie van grote taalmodellen?",
        "Is er onderzoek naar versterkend leren met zeldzame beloningen?",
        "Hoe beoordelen de auteurs de robuustheid van hun model tegen aanvallen?",
        "Ik zoek een artikel dat convolutionele netwerken en transformers vergelijkt.",
        "Wat is de beste manier om een klein model met weinig data te trainen?",
        "Waarom helpt batchnormalisatie bij het trainen van diepe netwerken?",
        "Morgen gaan we met de trein naar Amsterdam als het mooi weer is.",
        "is er een paper over retrieval augmented generation voor lange documenten?",
        "Welke modellen zijn het beste voor machinevertaling en waarom is dat zo?",
        "Ik heb een artikel nodig dat het aandachtsmechanisme in transformers uitlegt.",
    ],
    "Swedish": [
        "Vilka artiklar studerar komprimering av stora språkmodeller?",
        "Finns det något arbete om förstärkningsinlärning med glesa belöningar?",
        "Hur utvärderar författarna modellens robusthet mot attacker?",
        "Varför hjälper batchnormalisering vid träning av djupa nätverk?",
    ],
    "Polish": [
        "Które artykuły badają kompresję dużych modeli językowych?",
        "Czy istnieje praca o uczeniu ze wzmocnieniem z rzadkimi nagrodami?",
        "Jak autorzy oceniają odporność swojego modelu na ataki?",
        "Dlaczego normalizacja wsadowa pomaga w trenowaniu głębokich sieci?",
    ],
    "Turkish": [
        "Büyük dil modelleri için hangi sıkıştırma yöntemleri var?",
        "Seyrek ödüllerle pekiştirmeli öğrenme hakkında bir çalışma var mı?",
        "Yazarlar modelin saldırılara karşı dayanıklılığını nasıl değerlendiriyor?",
        "Toplu normalleştirme derin ağların eğitimine neden yardımcı olur?",
    ],
    "Danish": [
        "Hvilke artikler undersøger komprimering af store sprogmodeller, og hvad er resultatet?",
        "Jeg leder efter en artikel om forstærkningslæring med sjældne belønninger.",
    ],
    "Norwegian": [
        "Hvilke artikler handler om komprimering av store språkmodeller, og hvordan virker det?",
    ],
    "Czech": [
        "Které články se zabývají kompresí velkých jazykových modelů a jak to funguje?",
    ],
    "Romanian": [
        "Care sunt articolele despre compresia modelelor mari de limbaj și cum funcționează?",
    ],
    "Hungarian": [
        "Melyik cikkek foglalkoznak a nagy nyelvi modellek tömörítésével, és hogyan működik ez?",
    ],
    "Finnish": [
        "Mitkä artikkelit käsittelevät suurten kielimallien pakkaamista ja miten se toimii?",
    ],
    "Indonesian": [
        "Apakah ada makalah tentang kompresi model bahasa besar dan bagaimana cara kerjanya?",
    ],
}

SCRIPTS = {
    "这篇论文提出了什么方法来压缩大语言模型？": "Chinese",
    "大規模言語モデルの圧縮についての論文はありますか？": "Japanese",
    "대규모 언어 모델 압축에 관한 논문이 있나요?": "Korean",
    "Какие статьи про LoRA и QLoRA для fine-tuning LLM?": "Russian",
    "ما هي الأوراق التي تدرس ضغط نماذج اللغة الكبيرة؟": "Arabic",
    "אילו מאמרים עוסקים בדחיסת מודלים גדולים של שפה?": "Hebrew",
    "Ποια άρθρα μελετούν τη συμπίεση μεγάλων γλωσσικών μοντέλων;": "Greek",
    "कौन से शोधपत्र बड़े भाषा मॉडलों के संपीड़न का अध्ययन करते हैं?": "Hindi",
    "งานวิจัยใดศึกษาการบีบอัดโมเดลภาษาขนาดใหญ่": "Thai",
}


@pytest.mark.parametrize("question", ENGLISH)
def test_english_questions_stay_english(question):
    assert non_english(question) is None


@pytest.mark.parametrize(("language", "question"), [(lang, q) for lang, qs in FOREIGN.items() for q in qs])
def test_questions_in_other_languages_are_named(language, question):
    assert non_english(question) == language


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("cual es la mejor manera de entrenar un modelo pequeno con pocos datos?", "Spanish"),
        ("qual e a melhor maneira de treinar um modelo pequeno com poucos dados?", "Portuguese"),
        ("qual e il modo migliore per addestrare un modello piccolo con pochi dati?", "Italian"),
        ("quelle est la meilleure facon d entrainer un petit modele avec peu de donnees?", "French"),
        ("gibt es papers zu diffusionsmodellen fuer audio?", "German"),
        ("hay papers sobre modelos de difusion para audio?", "Spanish"),
        ("ci sono paper sui modelli di diffusione per audio?", "Italian"),
        ("existem papers sobre modelos de difusao para audio?", "Portuguese"),
        ("zijn er papers over diffusiemodellen voor audio?", "Dutch"),
    ],
)
def test_questions_typed_without_accents_in_chat_style(question, language):
    assert non_english(question) == language


@pytest.mark.parametrize(("question", "language"), SCRIPTS.items())
def test_other_scripts_are_named_by_their_letters(question, language):
    assert non_english(question) == language


@pytest.mark.parametrize(
    "question",
    [
        "QUELS SONT LES MEILLEURS MODÈLES POUR LA TRADUCTION AUTOMATIQUE?",  # shouted
        "Quels sont les meilleurs mod\u00e8les pour la traduction automatique?",  # composed
        "Quels sont les meilleurs mode\u0300les pour la traduction automatique?",  # decomposed
        "Est-ce qu\u2019il y a des travaux sur l\u2019apprentissage par renforcement?",  # phone apostrophes
    ],
)
def test_case_accents_and_apostrophes_as_typed(question):
    assert non_english(question) == "French"


def test_empty_and_wordless_questions_are_no_language():
    for question in ("", "   ", "?", "GPT-4 vs o1", "128x128 ImageNet 3.5B", "LoRA QLoRA DoRA"):
        assert non_english(question) is None


@pytest.mark.parametrize("name", ["German", "French", "Spanish", "Italian", "Portuguese", "Dutch", "Swedish",
                                  "Polish", "Turkish", "Russian", "Chinese", "Japanese", "Korean"])  # fmt: skip
def test_function_words_are_the_published_lists(name):
    """No word is added by hand: each is an entry of the package's list for that language."""
    from stop_words import get_stop_words

    words = function_words(name)
    assert words and isinstance(words, frozenset)
    assert all(w == w.lower() for w in words)
    code = language._LATIN[name][0] if name in language._LATIN else language._OTHER[name]
    published = {unicodedata.normalize("NFC", w).casefold().strip().rstrip("'") for w in get_stop_words(code)}
    if code in language._CODE_PAGES:
        published = {language._CODE_PAGES[code](w) for w in published}
    assert words <= published


def test_function_words_the_glossary_drops():
    assert {"und", "der", "mit", "ohne", "auf"} <= function_words("German")
    assert {"les", "des", "pour", "avec", "dans"} <= function_words("French")
    assert {"para", "con", "los", "por"} <= function_words("Spanish")
    assert function_words("Klingon") == frozenset() and function_words("Thai") == frozenset()


def test_every_glossary_language_has_function_words_or_a_script():
    from bot.query.glossary import CODES

    for name in CODES:
        assert function_words(name) or name in language._SCRIPTS.values(), name


def test_nothing_is_read_at_import():
    code = "import sys, bot.query.language; assert 'stop_words' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent.parent, timeout=60)
