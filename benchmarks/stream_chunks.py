"""How the chunk size of ``score_cases`` trades the first result against the batched engine's speed.

Scores the same N distinct synthetic cases (random counts, history, drugs;
fixed seed) with ``Engine.posterior_batch`` in chunks of several sizes, and
``score_cases`` (chunks growing from FIRST_CHUNK to CHUNK) end to end, and
prints the seconds. Usage::

    .venv/bin/python benchmarks/stream_chunks.py [--n 8192]
"""

from __future__ import annotations

import argparse
import random
import time

from bayesdx.case import parse_case
from bayesdx.batch import CHUNK, FIRST_CHUNK, score_cases
from bayesdx.diagnosis import load_model


def synthetic(model, n: int, seed: int = 1):
    rng = random.Random(seed)
    hist = ["fever", "splenomegaly", "rheumatoid_arthritis", "mouth_ulcers", "recurrent_infections",
            "joint_pain", "rash", "lymphadenopathy"]
    meds = ["clozapine", "methimazole", "carbamazepine", "metformin", "methotrexate"]
    out = []
    for i in range(n):
        c = {"id": f"c{i}", "age_years": rng.randint(1, 90), "sex": rng.choice(["female", "male"]),
             "cbc": {"anc": round(rng.uniform(0.1, 3), 2), "alc": round(rng.uniform(0.3, 3), 2),
                     "hb": round(rng.uniform(8, 16), 1)}}
        if rng.random() < 0.5:
            c["history"] = rng.sample(hist, rng.randint(0, 3))
        if rng.random() < 0.3:
            c["medications"] = [{"name": rng.choice(meds), "weeks": rng.randint(1, 30)}]
        out.append(parse_case(c, model.kb))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=8192)
    args = ap.parse_args(argv)
    model = load_model()
    cases = synthetic(model, args.n)
    ev = [c.evidence for c in cases]
    model.engine.posterior_batch(ev[:64])  # warm up
    for size in (256, 1024, 2048, args.n):
        t = time.perf_counter()
        for i in range(0, len(ev), size):
            model.engine.posterior_batch(ev[i:i + size])
        print(f"engine, chunks of {size:>5}: {time.perf_counter() - t:6.2f} s")
    t = time.perf_counter()
    first = None
    for _ in score_cases(cases, model=model, draws=0):
        first = first or time.perf_counter() - t
    print(f"score_cases ({FIRST_CHUNK} doubling to {CHUNK}): first result {first:.2f} s, "
          f"all {time.perf_counter() - t:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
