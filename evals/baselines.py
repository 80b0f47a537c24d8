"""Baselines measured in the same run as our pipeline, with the same models.

- ``dense-only``: our evidence ranking, refusal and answers over dense retrieval alone (isolates the
  gain of hybrid retrieval).
- ``langchain-rag``: a plain LangChain retrieve-then-generate chain (dense top-4 chunks stuffed into
  the usual RAG prompt, the same LLM); no evidence ranking, no verification, no citations.
"""

from __future__ import annotations

import re
import time
from typing import Any

from langchain_core.language_models.llms import LLM as LangChainLLM
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnablePassthrough

from qa_service.api.routes.ask import to_response
from qa_service.integrations.langchain import QAServiceRetriever
from qa_service.llm import LLM
from qa_service.retrieval import DenseOnlyRetriever
from qa_service.services import Services

# The prompt of LangChain's RAG tutorial, as users of the plain chain write it.
RAG_PROMPT = ChatPromptTemplate.from_messages(
    [
        (
            "system",
            "You are an assistant for question-answering tasks. Use the following pieces of retrieved "
            "context to answer the question. If you don't know the answer, just say that you don't know. "
            "Use three sentences maximum and keep the answer concise.\n\n{context}",
        ),
        ("human", "{question}"),
    ]
)
_DONT_KNOW = re.compile(r"don'?t know|do not know|not (mentioned|provided|in the (context|documents))", re.I)


class _LangChainLLMAdapter(LangChainLLM):
    """Our one-method LLM contract as a LangChain LLM (thin adapter; no langchain-community)."""

    llm: Any
    max_tokens: int = 64

    @property
    def _llm_type(self) -> str:
        return "qa-service"

    def _call(self, prompt: str, stop: list[str] | None = None, run_manager: Any = None, **kwargs: Any) -> str:
        backend: LLM = self.llm
        return backend.chat("", prompt, max_tokens=self.max_tokens)


def langchain_rag_chain(services: Services, collection: str) -> Runnable[str, str] | None:
    """The plain chain, or None when no LLM is configured."""
    llm = services.answerer.llm
    if llm is None:
        return None
    retriever = QAServiceRetriever(retriever=services.retriever, collection=collection, k=4, mode="dense")

    def format_docs(docs: list[Any]) -> str:
        return "\n\n".join(d.page_content for d in docs)

    adapter = _LangChainLLMAdapter(llm=llm, max_tokens=services.settings.llm.max_tokens)
    return (
        {"context": retriever | format_docs, "question": RunnablePassthrough()}
        | RAG_PROMPT
        | adapter
        | StrOutputParser()
    )


def ask_langchain(chain: Runnable[str, str], question: str) -> dict[str, Any]:
    """Run the plain chain; shaped like an /ask response (no citations; refusal = 'don't know')."""
    started = time.perf_counter()
    answer = chain.invoke(question).strip()
    total = (time.perf_counter() - started) * 1000
    return {
        "answer": answer,
        "refused": bool(_DONT_KNOW.search(answer)),
        "citations": [],
        "mode": "generative",
        "timings_ms": {"total": round(total, 2)},
    }


def ask_dense_only(services: Services, question: str, *, collection: str, mode: str) -> dict[str, Any]:
    answerer = services.answerer.with_retriever(DenseOnlyRetriever(services.retriever))
    answer = answerer.ask(question, collection=collection, top_k=services.settings.retrieval.top_k, mode=mode)  # type: ignore[arg-type]
    return to_response(answer, collection).model_dump()
