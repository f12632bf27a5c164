"""NLTK data for valentine's Cupid and COMA-with-instances, built from local files (no network).

valentine downloads WordNet, stop words and the Punkt tables from the internet on every
call and fails when it cannot. This machine has no internet, so the benchmark builds an NLTK
data folder from what is installed here instead: WordNet 3.0 from Debian's ``wordnet-base``
and ``wordnet-sense-index`` packages (``apt-get install wordnet-base wordnet-sense-index``),
its ``lexnames`` table from the WordNet manual page those packages ship, English stop words
from scikit-learn, and empty Punkt parameters (plain sentence splitting; column names are
single phrases). Then valentine's downloader is switched off.
"""

from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path

WORDNET = Path("/usr/share/wordnet")
LEXNAMES_MAN = Path("/usr/share/man/man5/lexnames.5WN.gz")
_CATEGORY = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}
_WORDNET_FILES = ("data.", "index.", ".exc", "cntlist", "sentidx.vrb", "sents.vrb", "frames.vrb")


def missing() -> str | None:
    """Why the NLTK data cannot be built here, or ``None`` when it can."""
    if not (WORDNET / "data.noun").is_file() or not LEXNAMES_MAN.is_file():
        return "WordNet is not installed (apt-get install wordnet-base wordnet-sense-index)"
    if not (WORDNET / "index.sense").is_file():
        return "WordNet's sense index is not installed (apt-get install wordnet-sense-index)"
    return None


def _lexnames() -> str:
    lines = []
    with gzip.open(LEXNAMES_MAN, "rt", encoding="utf-8") as manual:
        text = manual.read()
    for line in text.splitlines():
        match = re.match(r"^(\d\d)\t\s*(\w+)\.(\w+)\s*\t", line)
        if match:
            number, category, name = match.groups()
            lines.append(f"{number}\t{category}.{name}\t{_CATEGORY[category]}")
    return "\n".join(lines) + "\n"


def build(root: Path) -> Path:
    """Create (once) an NLTK data folder under ``root`` and return it."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    wordnet = root / "corpora" / "wordnet"
    if not (wordnet / "lexnames").is_file():
        wordnet.mkdir(parents=True, exist_ok=True)
        for source in WORDNET.iterdir():
            if source.is_file() and any(part in source.name for part in _WORDNET_FILES):
                shutil.copy2(source, wordnet / source.name)
        (wordnet / "lexnames").write_text(_lexnames(), encoding="utf-8")
    stopwords = root / "corpora" / "stopwords"
    stopwords.mkdir(parents=True, exist_ok=True)
    (stopwords / "english").write_text("\n".join(sorted(ENGLISH_STOP_WORDS)) + "\n", encoding="utf-8")
    punkt = root / "tokenizers" / "punkt_tab" / "english"
    punkt.mkdir(parents=True, exist_ok=True)
    for name in ("collocations.tab", "sent_starters.txt", "abbrev_types.txt", "ortho_context.tab"):
        (punkt / name).touch()
    return root


def install(root: Path) -> None:
    """Point NLTK at the local folder and stop valentine from trying to download."""
    import nltk
    import valentine.algorithms.coma.similarity.tfidf as coma_tfidf
    import valentine.algorithms.cupid.linguistic_matching as cupid_linguistic
    import valentine.utils.utils as valentine_utils

    nltk.data.path.insert(0, str(build(root)))

    def _already_here() -> None:
        """The data is local; nothing to download."""

    valentine_utils.ensure_nltk_data = _already_here
    cupid_linguistic._ensure_nltk_data = _already_here
    coma_tfidf.ensure_nltk_data = _already_here
