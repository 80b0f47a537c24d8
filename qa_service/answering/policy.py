"""The answering policy's weights and thresholds, in one place.

Everything here was set by hand on the dev suites (the seed article first; see docs/answers.md). The
decision to answer or refuse is not here: it is the trained answerability model (``answerability.py``,
parameters in ``data/answerability.json``, operating point in settings). A reader looking for "why was
this sentence quoted" or "why this cut-off" starts here.
"""

from __future__ import annotations

# The answerability model's features (answerability.py)
TOP = 5  # runners-up considered by the "best of the top" features

# Generative answers (answerer.py)
EVIDENCE_FOR_LLM = 4

# Claims and disputes (claims.py)
NEGATION_REACH = 5  # words before the predicate that a negation applies to
DISPUTED_POOL = 8  # best-ranked sentences whose speakers' disputes are looked up
EXPAND_DOCUMENTS = 3  # documents (best first) whose stored claims are looked through
REBUTTAL_SENTENCES = 3  # sentences after a bare dispute ("X wasn't speaking the truth") that substantiate it
BARE_DISPUTE_WORDS = 8  # a dispute this short says nothing itself; the sentences after it say why

# Conflicts between sources (conflicts.py)
REBUTTAL_REACH = 800  # characters after a bare dispute where the sentences substantiating it may start

# Evidence ranking (evidence.py): the score of a sentence
W_SEMANTIC, W_LEXICAL, W_TYPE, W_NAMES = 0.45, 0.35, 0.10, 0.10
NAME_TERM_WEIGHT = 0.5
HEADING_TERM_WEIGHT = 0.5  # a question term found only in the sentence's heading ("insort_left") counts half
MAX_SENTENCES = 32  # sentences embedded per question (latency is dominated by these embeddings)

# Which sentences an extractive answer quotes (extractive.py)
SECOND_SENTENCE_RATIO = 0.85  # a second sentence is quoted only when it scores this close to the first
TYPED_RUNNER_UP_RATIO = 0.9  # a sentence holding the asked-for type may win when it scores this close
# "What is X?": a sentence defining X (definitions.py) is quoted when it scores this close to the best one,
# among this many best sentences; a definition shares fewer of the question's words than a passing mention.
DEFINITION_RATIO = 0.65
DEFINITION_POOL = 8

# Signals that the evidence may not answer (signals.py), inputs of the answerability model
MIN_SEMANTIC = 0.25  # below this the best sentence is about something else
NAME_POOL = 5  # names the question mentions must occur in one of this many best sentences ...
TOPIC_SHARE = 0.2  # ... unless a fifth of the collection's chunks mention them (the corpus's own topic)
MIN_COUNTED_SIMILARITY = 0.35  # "how many X": the noun after a number must be about X
NEGATION_MIN_LEXICAL = 0.5  # the passage must be about the same statement for its polarity to matter

# Synthesis answers (synthesis.py)
SYNTHESIS_RATIO = 0.75  # further sentences are quoted when they score this close to the best one
SYNTHESIS_POOL = 8  # ... and are among this many best sentences
MAX_SYNTHESIS = 3  # sentences in a synthesis answer (before the sides of a conflict)
NEAR_DUPLICATE = 0.5  # share of content stems two sentences may have in common before one is dropped
