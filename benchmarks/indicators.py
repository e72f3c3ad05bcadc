"""Benchmark: every shipped indicator for all 33,755 English LSOAs, and the national IoD2019 index.

Targets (issue 4): the national index in <= 2 s; 15 indicators with 95% and 99.8% limits in
<= 10 s. The counts are synthetic (seeded) on the real national LSOA list (IoD2025 file); the
index uses the real published IoD2019 domain ranks. The baseline is the obvious per-area loop
(scipy per row), timed on a sample and scaled, and checked to give the same numbers.

    .venv/bin/python benchmarks/indicators.py [--seed 1] [--baseline-sample 2000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from scipy import stats as sps

from needskit.config.catalog import load_catalog
from needskit.config.indicators import load_indicators
from needskit.config.project import project_dir
from needskit.needs.index import IOD2019, combine_domains
from needskit.needs.indicators import compute_indicators
from needskit.partner_data.ingest.iod import IOD2019_FILE, read_iod2019_domain_ranks


def synthetic_profile(specs, codes: np.ndarray, seed: int) -> pd.DataFrame:
    """A long profile with, for every term an indicator needs, plausible counts for every LSOA."""
    rng = np.random.default_rng(seed)
    rows = []
    n = len(codes)
    population = rng.integers(1000, 3000, n).astype(float)
    for spec in specs:
        if spec.statistic == "value":
            term = spec.value
            rows.append(
                pd.DataFrame(
                    {
                        "area_code": codes,
                        "level": "lsoa",
                        "dataset": term.datasets[0],
                        "measure": term.measure,
                        "category": "all",
                        "period": "2025",
                        "value": rng.random(n),
                    }
                )
            )
            continue
        den = spec.denominator
        rows.append(
            pd.DataFrame(
                {
                    "area_code": codes,
                    "level": "lsoa",
                    "dataset": den.datasets[0],
                    "measure": den.measure,
                    "category": "denominator",
                    "period": "2021",
                    "value": population,
                }
            )
        )
        num = spec.numerator
        category = num.categories[0] if num.categories else "numerator"
        periods = ["2024-01", "2024-02", "2024-03", "2024-04"] if spec.combine_periods else ["2021"]
        for period in periods:
            share = rng.beta(2, 20, n) if spec.statistic == "proportion" else rng.gamma(2.0, 0.004, n)
            counts = rng.binomial(population.astype(int), np.clip(share, 0, 1)).astype(float)
            rows.append(
                pd.DataFrame(
                    {
                        "area_code": codes,
                        "level": "lsoa",
                        "dataset": num.datasets[0],
                        "measure": num.measure,
                        "category": category,
                        "period": period,
                        "value": counts,
                    }
                )
            )
    profile = pd.concat(rows, ignore_index=True).drop_duplicates(
        ["area_code", "dataset", "measure", "category", "period"]
    )
    return profile.assign(area_name=profile["area_code"])


def naive_row(x: float, n: float, statistic: str) -> tuple[float, float]:
    """The per-area loop a spreadsheet-minded analyst writes: scipy for each row."""
    if statistic == "proportion":
        z = sps.norm.ppf(0.975)
        centre = (2 * x + z * z) / (2 * (n + z * z))
        half = z * np.sqrt(z * z + 4 * x * (1 - x / n)) / (2 * (n + z * z))
        return centre - half, centre + half
    if x < 10:
        lower = sps.chi2.ppf(0.025, 2 * x) / 2 if x > 0 else 0.0
        upper = sps.chi2.ppf(0.975, 2 * x + 2) / 2
    else:  # Byar's approximation from 10 events
        z = sps.norm.ppf(0.975)
        lower = x * (1 - 1 / (9 * x) - z / (3 * np.sqrt(x))) ** 3
        upper = (x + 1) * (1 - 1 / (9 * (x + 1)) + z / (3 * np.sqrt(x + 1))) ** 3
    return lower / n, upper / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline-sample", type=int, default=2000)
    args = parser.parse_args()
    root = project_dir()
    catalog = load_catalog(root / "conf" / "catalog.yml")
    # indicators of the pooled counts (a `mean` indicator averages neighbourhoods and is timed elsewhere)
    specs = tuple(
        s for s in load_indicators(root / "conf" / "indicators.yml", catalog=catalog) if s.statistic != "mean"
    )
    codes = pd.read_csv(
        (project_dir() / "data" / "raw" / "imd2025/iod2025_lsoa21_scores_ranks_deciles.csv.gz"),
        usecols=["lsoa21_code"],
    )["lsoa21_code"].to_numpy()
    profile = synthetic_profile(specs, codes, args.seed)

    started = time.perf_counter()
    results = compute_indicators(profile, indicators=specs, confidence=(0.95, 0.998))
    indicator_seconds = time.perf_counter() - started

    # baseline: a per-row loop, on a sample, scaled to every row computed with limits
    with_limits = results[results["statistic"] != "value"]
    sample = with_limits.sample(min(args.baseline_sample, len(with_limits)), random_state=args.seed)
    started = time.perf_counter()
    naive = [naive_row(r.numerator, r.denominator, r.statistic) for r in sample.itertuples()]
    per_row = (time.perf_counter() - started) / len(sample)
    baseline_seconds = per_row * len(with_limits) * 2  # two confidence levels
    lower = np.array([lo for lo, _ in naive]) * sample["multiplier"].to_numpy()
    same = np.allclose(lower, sample["lower_95"].to_numpy(), rtol=1e-9, atol=1e-12)

    ranks = read_iod2019_domain_ranks(project_dir() / "data" / "raw" / IOD2019_FILE)
    started = time.perf_counter()
    index = combine_domains(
        ranks, domains=list(IOD2019), weights=IOD2019, higher_is_more_deprived=False, code_col="area_code"
    )
    index_seconds = time.perf_counter() - started
    published = ranks["imd_rank"].to_numpy()
    exact = int((index["rank"].to_numpy() == published).sum())

    print(
        f"areas: {len(codes):,} English LSOAs; indicators: {len(specs)} "
        f"({sum(s.statistic != 'value' for s in specs)} with 95% and 99.8% limits); "
        f"result rows: {len(results):,}"
    )
    verdict = "PASS" if indicator_seconds <= 10 else "MISS"
    print(
        f"indicators: needskit {indicator_seconds:.2f} s vs per-row loop ~{baseline_seconds:.1f} s "
        f"({baseline_seconds / indicator_seconds:.0f}x faster); target <= 10 s: {verdict}; "
        f"same limits as the loop: {'yes' if same else 'NO'}"
    )
    verdict = "PASS" if index_seconds <= 2 else "MISS"
    print(
        f"national IoD2019 index: {index_seconds:.3f} s for {len(ranks):,} LSOAs (target <= 2 s: {verdict}); "
        f"published IMD rank reproduced for {exact:,} of {len(ranks):,} "
        "(the rest are published ties / near-ties)"
    )
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
