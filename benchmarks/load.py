"""Load test: N concurrent clients ask for D seconds while a writer uploads and deletes documents.

Two collections hold different documents; every citation must come from the collection asked
(a "wrong-collection answer" otherwise). Reports status counts, latency percentiles and throughput.

    python -m benchmarks.load --url http://127.0.0.1:8000 --clients 16 --seconds 60
(against a server whose collections were prepared by ``prepare``; ``make bench-load`` does it all).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
COLLECTIONS = ("load-alpha", "load-beta")


def questions(collection: str) -> list[str]:
    """Distinct questions, so caches do not turn the load test into a cache benchmark: the 158 seed eval
    questions for alpha; 400 generated ones for beta (four kinds over 100 districts)."""
    if collection == "load-alpha":
        lines = []
        for name in ("seed.jsonl", "seed_holdout.jsonl"):
            lines += (ROOT / "evals" / "datasets" / name).read_text(encoding="utf-8").splitlines()
        return [json.loads(line)["question"] for line in lines if line.strip()]
    kinds = (
        "What was the zorblax count in district {i}?",
        "How many visitors did the festival draw according to the district {i} bulletin?",
        "When was the Quentaro guild founded, according to the bulletin of district {i}?",
        "Who founded the Quentaro guild, says district {i}'s bulletin?",
    )
    return [kind.format(i=i) for i in range(100) for kind in kinds]


def beta_document(i: int) -> tuple[str, bytes]:
    text = (
        f"District {i} bulletin. The zorblax count in district {i} was {1000 + 37 * i}. "
        f"The zorblax festival in Quentaro is held every April and draws {40 + i},000 visitors. "
        f"The Quentaro guild was founded by Mara Velt in {1800 + i}.\n"
    )
    return f"bulletin-{i}.txt", text.encode()


@dataclass
class LoadReport:
    clients: int
    seconds: float
    asks: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    wrong_collection: int = 0
    scoped_asks: int = 0  # asks with a source glob (Chroma where + BM25 mask): isolation must hold there too
    cross_pins: int = 0  # asks pinned to a document of the other collection: must be refused (422)
    cross_pin_leaks: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    uploads: int = 0
    deletes: int = 0
    writer_statuses: Counter[int] = field(default_factory=Counter)

    @property
    def server_errors(self) -> int:
        return sum(n for s, n in (self.statuses + self.writer_statuses).items() if s >= 500)

    def summary(self) -> dict[str, object]:
        ordered = sorted(self.latencies_ms) or [0.0]

        def pct(p: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1)

        data = asdict(self)
        data.pop("latencies_ms")
        data["statuses"] = dict(self.statuses)
        data["writer_statuses"] = dict(self.writer_statuses)
        data.update(
            p50_ms=pct(0.50),
            p95_ms=pct(0.95),
            p99_ms=pct(0.99),
            mean_ms=round(statistics.fmean(ordered), 1),
            asks_per_second=round(self.asks / self.seconds, 1),
            server_errors=self.server_errors,
        )
        return data


def prepare(client: httpx.Client, beta_documents: int = 6) -> dict[str, set[str]]:
    """Upload the seeds to alpha and a few bulletins to beta; returns each collection's document ids."""
    owned: dict[str, set[str]] = {name: set() for name in COLLECTIONS}
    uploads = {
        "load-alpha": [(p.name, p.read_bytes()) for p in sorted(SEEDS.glob("*.txt"))],
        "load-beta": [beta_document(i) for i in range(beta_documents)],
    }
    for name, files in uploads.items():
        response = client.post("/documents", params={"collection": name}, files=[("files", f) for f in files])
        response.raise_for_status()
        owned[name] |= {d["id"] for d in response.json()["items"]}
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        states = [
            d["state"]
            for name in COLLECTIONS
            for d in client.get("/documents", params={"collection": name, "limit": 1000}).json()["items"]
        ]
        if all(s in ("ready", "failed") for s in states):
            return owned
        time.sleep(0.2)
    raise RuntimeError("prepared documents did not become ready")


async def run_load(
    url: str,
    owned: dict[str, set[str]],
    *,
    clients: int = 16,
    seconds: float = 60.0,
    headers: dict[str, str] | None = None,
    writer: bool = True,
) -> LoadReport:
    """``clients`` askers and (unless ``writer`` is False) one writer, for ``seconds``; ``owned`` grows with
    the writer's uploads."""
    report = LoadReport(clients=clients, seconds=seconds)
    stop_at = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients + 2)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits, headers=headers or {}) as client:
        pool = {name: questions(name) for name in COLLECTIONS}
        prepared = {name: sorted(ids) for name, ids in owned.items()}  # stable: the writer adds and deletes others

        async def asker(n: int) -> None:
            i = n * 7  # clients start at different places in the pools
            while time.monotonic() < stop_at:
                collection = COLLECTIONS[i % 2]
                question = pool[collection][(i // 2) % len(pool[collection])]
                i += 1
                other = COLLECTIONS[(COLLECTIONS.index(collection) + 1) % 2]
                if i % 5 == 0 and prepared[other]:
                    await cross_pin(question, collection, prepared[other][0])
                    continue
                body: dict[str, object] = {"question": question, "collection": collection}
                if i % 3 == 0:
                    body["sources"] = ["*"]
                    report.scoped_asks += 1
                started = time.perf_counter()
                response = await client.post("/ask", json=body)
                report.latencies_ms.append((time.perf_counter() - started) * 1000)
                report.asks += 1
                report.statuses[response.status_code] += 1
                if response.status_code == 200:
                    cited = {c["document_id"] for c in response.json()["citations"]}
                    if cited & owned[other] or not cited <= owned[collection]:
                        report.wrong_collection += 1

        async def cross_pin(question: str, collection: str, foreign_id: str) -> None:
            body = {"question": question, "collection": collection, "document_ids": [foreign_id]}
            response = await client.post("/ask", json=body)
            report.cross_pins += 1
            if response.status_code != 422 or response.json()["error"]["code"] != "invalid_filter":
                report.cross_pin_leaks += 1

        async def upload_and_delete() -> None:
            i = 1000
            while time.monotonic() < stop_at:
                name, data = beta_document(i)
                response = await client.post(
                    "/documents", params={"collection": "load-beta"}, files=[("files", (name, data))]
                )
                report.writer_statuses[response.status_code] += 1
                if response.status_code == 202:
                    doc_id = response.json()["items"][0]["id"]
                    owned["load-beta"].add(doc_id)
                    report.uploads += 1
                    await asyncio.sleep(1.0)
                    deleted = await client.delete(f"/documents/{doc_id}", params={"collection": "load-beta"})
                    report.writer_statuses[deleted.status_code] += 1
                    report.deletes += deleted.status_code == 204
                i += 1

        tasks = [asker(n) for n in range(clients)]
        await asyncio.gather(*tasks, *([upload_and_delete()] if writer else []))
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--key", default=None, help="a writer API key, when the server has keys")
    parser.add_argument(
        "--baselines", action="store_true", help="also run 1 client and N clients without the writer, for ratios"
    )
    args = parser.parse_args()
    headers = {"Authorization": f"Bearer {args.key}"} if args.key else {}
    with httpx.Client(base_url=args.url, timeout=60, headers=headers) as client:
        owned = prepare(client)
    runs = [("load", args.clients, True)]
    if args.baselines:
        runs = [("1 client, no writes", 1, False), (f"{args.clients} clients, no writes", args.clients, False), *runs]
    for label, clients, writer in runs:
        report = asyncio.run(
            run_load(args.url, owned, clients=clients, seconds=args.seconds, headers=headers, writer=writer)
        )
        print(json.dumps({"run": label, **report.summary()}))


if __name__ == "__main__":
    main()
