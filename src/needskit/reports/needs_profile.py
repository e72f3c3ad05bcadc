"""The needs analysis a report presents: one call per notebook cell.

:func:`load_context` gathers, for one area (a district "chapter" or the county), the pooled
profile, the indicators of its neighbourhoods, the area itself and its comparator, with the
disclosure rules applied when the report is for the public or for partners. The other functions
turn that context into the tables, sentences and inputs to charts and maps a leadership group
reads: headline facts written from the data, the Fingertips-style indicator table, the priority
neighbourhoods and what drives their need, inequality by deprivation decile, hot spots and
trend. Nothing here reads a notebook's mind: every sentence is generated from the numbers.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from needskit.config.catalog import Catalog, IndicatorSpec, load_catalog, load_indicators
from needskit.config.project import processed_dir, project_dir
from needskit.errors import ReportError
from needskit.needs.indicators import ENGLAND, benchmark, compute_indicators
from needskit.place import geography as geo

__all__ = [
    "NeedsContext",
    "load_context",
    "pooled_profile",
    "select_period",
    "headline_facts",
    "indicator_table",
    "priority_neighbourhoods",
    "neighbourhood_indicator",
    "comparison_group",
    "neighbourhood_comparison",
    "area_map_frame",
    "inequality_by_decile",
    "hot_spot_areas",
    "monthly_trend",
    "publish_indicators",
    "title_markdown",
    "facts_markdown",
    "PRIORITY_DOMAINS",
]

AUDIENCE_WORDS = {"public": "for publication", "partner": "for partner organisations", "internal": "internal, not for publication"}
"""How a report heading names its audience."""

PRIORITY_DOMAINS = {
    "income": "Income", "employment": "Employment", "education": "Education, skills and training",
    "health": "Health and disability", "crime": "Crime", "housing_and_services": "Barriers to housing and services",
    "environment": "Living environment",
}


@dataclass
class NeedsContext:
    """Everything a needs-profile report shows for one area."""

    area_code: str
    area_name: str
    area_level: str
    period: str
    comparator: str
    comparator_code: str
    comparator_name: str
    publish: str
    rule: str
    level: str
    profile: pd.DataFrame
    results: pd.DataFrame
    specs: tuple[IndicatorSpec, ...]
    catalog: Catalog
    neighbourhoods: gpd.GeoDataFrame
    seed: int = 20240401
    notes: list[str] = field(default_factory=list)

    @property
    def datasets(self) -> list[str]:
        return sorted({d for spec in self.specs for d in spec.sources} & set(self.profile["dataset"]))


@functools.cache
def _pooled(catalog_path: str, places_path: str | None, processed: str) -> pd.DataFrame:
    path = Path(processed) / "profile.parquet"
    if path.exists():
        return pd.read_parquet(path)
    from needskit.config.catalog import load_places
    from needskit.partner_data.pooling import pool_catalog, write_pool

    places = load_places(places_path) if places_path and Path(places_path).exists() else []
    result = pool_catalog(load_catalog(catalog_path), places=places, progress=False)
    write_pool(result, processed, catalog_path=Path(catalog_path))
    return result.profile


def pooled_profile(*, catalog_path: Path | None = None, processed: Path | None = None) -> pd.DataFrame:
    """The internal pooled profile (``data/processed/profile.parquet``), pooled first if missing."""
    conf = (project_dir() or Path.cwd()) / "conf"
    catalog_path = Path(catalog_path or conf / "catalog.yml")
    processed = Path(processed or processed_dir())
    return _pooled(str(catalog_path), str(conf / "places.yml"), str(processed)).copy()


def select_period(results: pd.DataFrame, period: str) -> pd.DataFrame:
    """Per indicator, the period a report for ``period`` shows: the latest whose end is not after
    ``period``, preferring a combined span (``2024-01/2024-04``) that ends there. Indicators with
    a single period (a census, an index) are shown whatever their date."""
    if results.empty:
        return results
    singles = results[~results["period"].str.contains("/")].groupby("indicator")["period"].nunique()
    snapshot = results["indicator"].map(singles).fillna(0) <= 1  # one period only: always shown
    end = results["period"].str.split("/").str[-1].where(~snapshot, "")
    eligible = results[end <= period].copy()
    eligible["_end"] = end[end <= period]
    eligible["_span"] = eligible["period"].str.contains("/")
    best = eligible.sort_values(["indicator", "_end", "_span"]).groupby("indicator")[["_end", "_span"]].last()
    key = eligible["indicator"].map(best["_end"]).eq(eligible["_end"]) & eligible["indicator"].map(best["_span"]).eq(eligible["_span"])
    return eligible[key].drop(columns=["_end", "_span"])


def _published_counts(profile: pd.DataFrame, rule: str) -> pd.DataFrame:
    """Counts in the profile as the rule publishes them (cell by cell); values unchanged."""
    import warnings

    from needskit.disclosure import apply_rules

    counts = profile[profile["kind"] != "value"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        published, _ = apply_rules(counts.reset_index(drop=True), rule=rule if rule != "lt5_secondary" else "nhs_digital", allow_fractional=True)
    published["value"] = pd.to_numeric(published["value_published"], errors="coerce").astype(float)
    return pd.concat([published[profile.columns], profile[profile["kind"] == "value"]], ignore_index=True)


def publish_indicators(results: pd.DataFrame, *, publish: str, rule: str) -> pd.DataFrame:
    """Indicators fit for the audience: where a count numerator would be withheld under the
    disclosure rule, the value, limits and counts are withheld too, with the reason."""
    if publish == "internal" or results.empty:
        return results
    from needskit.disclosure import RULE_SETS

    rs = RULE_SETS[rule]
    out = results.copy()
    counted = out["statistic"].isin(["proportion", "crude_rate"]) & out["numerator"].notna()
    rounded = np.floor(out["numerator"].fillna(0) + 0.5)
    small = counted & (rounded > 0) & (rounded <= rs.threshold)
    if rs.suppress_zero:
        small |= counted & (rounded == 0)
    limit_cols = [c for c in out.columns if c.startswith(("lower_", "upper_"))]
    out.loc[small, ["value", "numerator"] + limit_cols] = np.nan
    out.loc[small, "suppressed_reason"] = f"small number withheld ({rule}: 1-{rs.threshold})"
    if "comparison" in out:  # a withheld value is not compared either (its significance would hint at it)
        out.loc[small, "comparison"] = "not_compared"
    if "quintile" in out:
        out.loc[small, "quintile"] = pd.NA
    if rs.rounding_base:
        base = rs.rounding_base
        for column in ("numerator", "denominator"):
            out.loc[counted & ~small, column] = np.floor(out.loc[counted & ~small, column] / base + 0.5) * base
    return out


def load_context(
    *,
    area: str,
    period: str | None = None,
    comparator: str = "parent",
    level: str = "lsoa",
    publish: str = "public",
    rule: str = "nhs_digital",
    indicator_set: str | None = None,
    catalog_path: str | None = None,
    seed: int = 20240401,
) -> NeedsContext:
    """Gather a report's data for ``area`` (a district or the county).

    Raises
    ------
    ReportError
        Unknown area, level, audience or period.
    """
    conf = (project_dir() or Path.cwd()) / "conf"
    catalog = load_catalog(catalog_path or conf / "catalog.yml")
    specs = load_indicators(indicator_set or conf / "indicators.yml", catalog=catalog)
    if publish not in ("public", "partner", "internal"):
        raise ReportError("unknown audience", where="publish", expected="public, partner or internal", got=repr(publish))
    table = geo.hierarchy()
    area_level = next((lv for lv in ("district", "county", "ward", "msoa", "lsoa") if (table[lv] == area).any()), None)
    profile = pooled_profile(catalog_path=catalog_path and Path(catalog_path))
    place_members: list[str] = []
    if area_level is None:
        place_levels = profile.loc[(profile["area_code"] == area) & ~profile["level"].isin(geo.LEVELS), "level"].unique()
        if len(place_levels) == 0:
            raise ReportError(
                "unknown area code", where="area",
                expected="a district, county, ward or LSOA code (e.g. E07000078), or a custom place of conf/places.yml",
                got=repr(area),
            )
        area_level = str(place_levels[0])
        from needskit.config.catalog import load_places

        for place_set in load_places(conf / "places.yml"):
            place_members += place_set.members.loc[place_set.members["area_code"] == area, "lsoa_code"].tolist()
    if publish != "internal":
        import warnings

        from needskit.disclosure import filter_for_audience

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            profile = filter_for_audience(profile.assign(sharing=profile["dataset"].map(catalog.sharing()).fillna(profile["sharing"])), audience=publish)
    members = table[table["lsoa"].isin(place_members)] if place_members else table[table[area_level] == area]
    codes = set(members["lsoa"]) | set(members[level]) | {area}
    # the whole county (and England) so that sibling areas give quintiles and comparators
    county = table[table["county"].isin(set(members["county"]))]
    family = set(county["lsoa"]) | set(county[level]) | set(county["ward"]) | set(county["district"]) | set(county["county"]) | {ENGLAND, area}
    subset = profile[profile["area_code"].isin(family)]
    if not (subset["area_code"] == area).any():
        raise ReportError(
            "no pooled data for this area", where=f"area={area!r}",
            expected="an area inside the partnership's shipped data (Gloucestershire)",
            hint="pool the partner data for this area first (needskit pool)",
        )
    computed = compute_indicators(subset, indicators=specs)
    results = benchmark(computed, comparator=comparator)
    if place_members:  # a custom place is compared with the county its neighbourhoods are in
        county_code = members["county"].mode().iloc[0]
        own_rows = computed["area_code"] == area
        placed = benchmark(pd.concat([computed[own_rows], computed[computed["area_code"] == county_code]]), comparator=county_code)
        results = pd.concat([results[~own_rows.to_numpy()], placed[placed["area_code"] == area]], ignore_index=True)
    results = publish_indicators(results, publish=publish, rule=rule)
    if publish != "internal":
        subset = _published_counts(subset, rule)
    series = results[~results["period"].str.contains("/")].groupby("indicator")["period"].nunique()
    monthly = results[results["indicator"].isin(series[series > 1].index) & ~results["period"].str.contains("/")]
    available = sorted(set((monthly if len(monthly) else results)["period"]))
    if period in (None, "", "latest"):
        period = max(p.split("/")[-1] for p in available)
    if not any(p.split("/")[-1] <= period for p in available):
        raise ReportError("no data for that period", where="period", expected=f"a period from {available[0]} to {available[-1]}", got=repr(period))
    own = results[results["area_code"] == area]
    comparator_code = own["comparator_code"].dropna().iloc[0] if own["comparator_code"].notna().any() else ENGLAND
    names = dict(zip(table["district"], table["district_name"], strict=False)) | dict(zip(table["county"], table["county_name"], strict=False))
    names[ENGLAND] = "England"
    neighbourhoods = geo.load_areas(level, within=area if area_level in ("district", "county") else None)
    if area_level not in ("district", "county"):
        neighbourhoods = neighbourhoods[neighbourhoods["area_code"].isin(codes)]
    if area_level not in geo.LEVELS:
        names[area] = profile.loc[profile["area_code"] == area, "area_name"].iloc[0]
    return NeedsContext(
        area_code=area, area_name=names[area] if area in names else members[f"{area_level}_name"].iloc[0], area_level=area_level,
        period=period, comparator=comparator, comparator_code=comparator_code, comparator_name=names.get(comparator_code, comparator_code),
        publish=publish, rule=rule, level=level, profile=subset, results=results, specs=specs, catalog=catalog,
        neighbourhoods=neighbourhoods.reset_index(drop=True), seed=seed,
    )


# ------------------------------------------------------------------------------ tables and facts


def _fmt(value: float, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def indicator_table(ctx: NeedsContext) -> pd.DataFrame:
    """The area's indicators for the report period: value, 95% limits, comparator, significance.

    Columns: ``indicator``, ``title``, ``theme``, ``period``, ``count`` (numerator), ``value``,
    ``lower_95``, ``upper_95``, ``comparator`` (name), ``comparator_value``, ``comparison``,
    ``polarity``, ``quintile``, ``note`` (a suppression reason when there is no value).
    """
    chosen = select_period(ctx.results[ctx.results["area_code"] == ctx.area_code], ctx.period)
    order = {spec.id: i for i, spec in enumerate(ctx.specs)}
    table = chosen.assign(comparator=ctx.comparator_name, count=chosen["numerator"], note=chosen["suppressed_reason"])
    columns = ["indicator", "title", "theme", "period", "count", "value", "lower_95", "upper_95", "comparator",
               "comparator_value", "comparison", "polarity", "quintile", "note"]
    return table.sort_values("indicator", key=lambda s: s.map(order))[columns].reset_index(drop=True)


def comparison_group(ctx: NeedsContext) -> tuple[pd.DataFrame, str]:
    """Values of the areas a spine chart spreads the area against: areas of the same level that
    share its comparator (the county's districts for a district); for the county, its districts.
    Returns the values (``indicator``, ``area_code``, ``value``) and a description."""
    results = select_period(ctx.results, ctx.period)
    same = results[(results["level"] == ctx.area_level) & (results["comparator_code"] == ctx.comparator_code)]
    if same["area_code"].nunique() >= 3:
        return same[["indicator", "area_code", "value"]], f"{ctx.area_level}s compared with {ctx.comparator_name}"
    below = results[(results["level"] == "district") & (results["comparator_code"] == ctx.area_code)]
    return below[["indicator", "area_code", "value"]], f"districts of {ctx.area_name}"


def neighbourhood_indicator(ctx: NeedsContext, indicator: str) -> gpd.GeoDataFrame:
    """One indicator for every neighbourhood of the area (report period), joined to the polygons."""
    rows = ctx.results[(ctx.results["indicator"] == indicator) & (ctx.results["level"] == ctx.level)]
    if rows.empty:
        raise ReportError("no such indicator at this level", where=f"indicator={indicator!r}", expected=f"one of {sorted(ctx.results['indicator'].unique())}")
    rows = select_period(rows, ctx.period)
    keep = ["area_code", "value", "lower_95", "upper_95", "numerator", "denominator", "comparison", "suppressed_reason", "period", "title"]
    return ctx.neighbourhoods.merge(rows[keep], on="area_code", how="left")


def _iod2025(ctx: NeedsContext) -> pd.DataFrame:
    """IoD2025 ranks, deciles and scores per neighbourhood (wide), from the pooled profile."""
    rows = ctx.profile[(ctx.profile["dataset"] == "iod2025_scores") & (ctx.profile["level"] == "lsoa")]
    wide = rows.pivot_table(index="area_code", columns="measure", values="value", aggfunc="first")
    return wide.reindex(ctx.neighbourhoods["area_code"])


def priority_neighbourhoods(ctx: NeedsContext, *, share: float = 0.2) -> pd.DataFrame:
    """Neighbourhoods among the most deprived nationally (IoD2025 decile ≤ 2 for 20%, 1 for 10%),
    with what drives their need: the domains in which each is in the most deprived 10% or 20%
    of England. Columns: ``area_code``, ``area_name``, ``ward``, ``imd_rank``, ``imd_decile``,
    ``most_deprived``, ``drivers``."""
    iod = _iod2025(ctx)
    if iod.empty or "imd_decile" not in iod:
        return pd.DataFrame(columns=["area_code", "area_name", "ward", "imd_rank", "imd_decile", "most_deprived", "drivers"])
    worst = int(round(share * 10))
    table = geo.hierarchy().set_index("lsoa")
    frame = pd.DataFrame({"area_code": iod.index, "imd_rank": iod["imd_rank"].to_numpy(), "imd_decile": iod["imd_decile"].to_numpy()})
    frame = frame[frame["imd_decile"] <= worst].sort_values("imd_rank")
    frame["area_name"] = frame["area_code"].map(table["lsoa_name"])
    frame["ward"] = frame["area_code"].map(table["ward_name"])
    frame["most_deprived"] = np.where(frame["imd_decile"] <= 1, "10%", "20%")
    drivers = []
    for code in frame["area_code"]:
        row = iod.loc[code]
        named = [f"{label} ({int(row[f'{key}_decile'])})" for key, label in PRIORITY_DOMAINS.items()
                 if f"{key}_decile" in row and row[f"{key}_decile"] <= worst]
        drivers.append(", ".join(named) if named else "no single domain in the worst 20%")
    frame["drivers"] = drivers
    frame["imd_rank"] = frame["imd_rank"].astype(int)
    frame["imd_decile"] = frame["imd_decile"].astype(int)
    return frame[["area_code", "area_name", "ward", "imd_rank", "imd_decile", "most_deprived", "drivers"]].reset_index(drop=True)


def headline_facts(ctx: NeedsContext) -> list[str]:
    """Sentences for the top of the report, each written from the data."""
    facts = []
    table = indicator_table(ctx)
    pop = ctx.profile[(ctx.profile["dataset"] == "population_census2021") & (ctx.profile["area_code"] == ctx.area_code)]
    if len(pop):
        total = pop["value"].sum()
        older = pop.loc[pop["category"] == "Aged 65 years and over", "value"].sum()
        facts.append(
            f"{ctx.area_name} had {total:,.0f} usual residents at the 2021 Census, {older / total:.1%} of them aged 65 or over, "
            f"living in {len(ctx.neighbourhoods)} neighbourhoods (LSOAs)."
        )
    priority = priority_neighbourhoods(ctx)
    if len(ctx.neighbourhoods) == 1:
        decile = _iod2025(ctx)["imd_decile"].iloc[0] if "imd_decile" in _iod2025(ctx) else np.nan
        if not np.isnan(decile):
            facts.append(
                f"This neighbourhood is in decile {int(decile)} of the Index of Multiple Deprivation 2025 "
                f"(1 = the most deprived 10% of neighbourhoods in England)"
                + (f"; its need is driven by {priority['drivers'].iloc[0]}." if len(priority) else ".")
            )
    elif len(ctx.neighbourhoods):
        n10 = int((priority["most_deprived"] == "10%").sum())
        facts.append(
            f"{len(priority)} of its {len(ctx.neighbourhoods)} neighbourhoods are among the 20% most deprived in England "
            f"(IMD 2025), {n10} of them among the most deprived 10%."
        )
    crime = table[table["indicator"] == "crime_rate_all"]
    if len(crime) and not np.isnan(crime["value"].iloc[0]):
        row = crime.iloc[0]
        facts.append(
            f"Police recorded {row['count']:,.0f} crimes (excluding anti-social behaviour) in {row['period'].replace('/', ' to ')}: "
            f"{_fmt(row['value'])} per 1,000 residents against {_fmt(row['comparator_value'])} in {row['comparator']} "
            f"({_comparison_words(row['comparison'])})."
        )
    worse = table[table["comparison"] == "worse"]["title"].tolist()
    better = table[table["comparison"] == "better"]["title"].tolist()
    if worse:
        facts.append(f"Significantly worse than {ctx.comparator_name} (95% confidence): " + "; ".join(worse) + ".")
    if better:
        facts.append(f"Significantly better than {ctx.comparator_name}: " + "; ".join(better) + ".")
    if not worse and not better:
        facts.append(f"No indicator differs significantly from {ctx.comparator_name} at 95% confidence.")
    return facts


def _comparison_words(comparison: str) -> str:
    return {
        "worse": "significantly worse", "better": "significantly better", "similar": "not significantly different",
        "higher": "significantly higher", "lower": "significantly lower", "not_compared": "not compared",
    }.get(comparison, comparison)


# ------------------------------------------------------------------------------ inequality, hot spots, trend


def inequality_by_decile(ctx: NeedsContext, *, indicator: str = "crime_rate_all", q: int = 5) -> tuple[pd.DataFrame, str]:
    """An indicator by national IMD 2025 quintile (or decile) of the area's neighbourhoods, and a
    sentence on the gap between the most and least deprived fifth."""
    from needskit.needs.deprivation import by_deprivation

    rows = neighbourhood_indicator(ctx, indicator)
    spec = next(s for s in ctx.specs if s.id == indicator)
    iod = _iod2025(ctx)
    rows = rows.assign(imd_decile=rows["area_code"].map(iod["imd_decile"]))
    rows = rows[rows["numerator"].notna() & rows["denominator"].notna() & rows["imd_decile"].notna()]
    if rows.empty:
        return pd.DataFrame(), f"{spec.title}: not enough published data to compare deprivation groups."
    statistic = "proportion" if spec.statistic == "proportion" else "rate"
    table = by_deprivation(
        pd.DataFrame(rows.drop(columns="geometry")).assign(imd_decile=rows["imd_decile"].astype(int)),
        numerator="numerator", denominator="denominator", decile="imd_decile", q=q, statistic=statistic,
        multiplier=spec.multiplier,
    )
    first, last = table.iloc[0], table.iloc[-1]
    if np.isnan(first["value"]) or np.isnan(last["value"]):
        sentence = f"{spec.title}: the most or least deprived fifth has no neighbourhoods here, so the gap is not calculated."
    else:
        ratio = first["value"] / last["value"] if last["value"] else np.nan
        sentence = (
            f"{spec.title}: {_fmt(first['value'])} in the most deprived fifth of neighbourhoods against "
            f"{_fmt(last['value'])} in the least deprived fifth (a gap of {_fmt(first['value'] - last['value'])}"
            + (f", {ratio:.1f} times as high" if np.isfinite(ratio) else "") + ")."
        )
    return table, sentence


def hot_spot_areas(ctx: NeedsContext, *, indicator: str = "crime_rate_all", fdr: bool = False) -> tuple[gpd.GeoDataFrame, str]:
    """Local Moran's I clusters of an indicator across the area's neighbourhoods, and a sentence."""
    import warnings

    from tqdm import TqdmWarning

    with warnings.catch_warnings():  # esda imports tqdm.auto, which warns without ipywidgets
        warnings.simplefilter("ignore", TqdmWarning)
        from needskit.needs.hotspots import hot_spots

    rows = neighbourhood_indicator(ctx, indicator)
    usable = rows[rows["value"].notna()].reset_index(drop=True)
    spec = next(s for s in ctx.specs if s.id == indicator)
    if len(usable) < 10:
        return usable.assign(cluster="not tested"), f"{spec.title}: too few neighbourhoods with published values to look for hot spots."
    result = hot_spots(usable, value="value", method="moran", permutations=999, seed=ctx.seed, fdr=fdr)
    hh = result[result["cluster"] == "high-high"]
    sentence = (
        f"{spec.title}: {len(hh)} neighbourhoods form high-high clusters (Local Moran's I, 999 permutations, seed {ctx.seed}, "
        f"p < {result['p_threshold'].iloc[0]:.3f})"
        + (f", in {', '.join(sorted(set(hh['area_name'].str.rsplit(' ', n=1).str[0])))}." if len(hh) else ".")
    )
    return result, sentence


def monthly_trend(ctx: NeedsContext, *, indicator: str = "crime_rate_all") -> tuple[pd.DataFrame, str]:
    """The indicator month by month for the area, with the Fingertips recent-trend test."""
    from needskit.needs.statistics import trend

    rows = ctx.results[(ctx.results["indicator"] == indicator) & (ctx.results["area_code"] == ctx.area_code)]
    rows = rows[~rows["period"].str.contains("/")].sort_values("period")
    spec = next(s for s in ctx.specs if s.id == indicator)
    if rows.empty:
        return rows, f"{spec.title}: no monthly data."
    tested = trend(rows.assign(t=range(len(rows))), time="t", count="numerator", denominator="denominator", polarity=spec.polarity)
    last = tested.iloc[-1]
    outcome = last["trend"]
    reason = last.get("trend_reason", "")
    sentence = (
        f"{spec.title}, {rows['period'].iloc[0]} to {rows['period'].iloc[-1]}: recent trend {outcome}"
        + (f" ({reason})" if isinstance(reason, str) and reason else "") + "."
    )
    return rows[["period", "numerator", "denominator", "value", "lower_95", "upper_95"]].reset_index(drop=True), sentence


def title_markdown(ctx: NeedsContext, *, partnership: str = "") -> str:
    """The report's heading: area, period and audience, as markdown."""
    audience = AUDIENCE_WORDS[ctx.publish]
    lines = [f"## {ctx.area_name}: needs profile, {ctx.period}"]
    lines.append(f"{partnership + ' · ' if partnership else ''}Compared with {ctx.comparator_name} · {audience}")
    return "\n\n".join(lines)


def facts_markdown(ctx: NeedsContext) -> str:
    """The headline facts as a markdown list."""
    return "\n".join(f"- {fact}" for fact in headline_facts(ctx))


def neighbourhood_comparison(ctx: NeedsContext) -> pd.DataFrame:
    """A neighbourhood, ward or custom place against its comparator (usually its district) and
    England: one row per indicator with the three values and the significance of the difference."""
    table = indicator_table(ctx)
    chosen = select_period(ctx.results, ctx.period)
    england = chosen[chosen["area_code"] == ENGLAND].set_index("indicator")["value"]
    table["england_value"] = table["indicator"].map(england)
    return table


def area_map_frame(ctx: NeedsContext) -> gpd.GeoDataFrame:
    """The area's neighbourhoods among all neighbourhoods of its district(s), flagged ``in_area``
    (1 inside, 0 outside) with the IMD 2025 score, for a locator map."""
    table = geo.hierarchy()
    districts = table.loc[table["lsoa"].isin(ctx.neighbourhoods["area_code"]), "district"].unique()
    frames = [geo.load_areas("lsoa", within=d) for d in districts]
    around = pd.concat(frames, ignore_index=True) if frames else ctx.neighbourhoods
    around = gpd.GeoDataFrame(around, crs=ctx.neighbourhoods.crs)
    imd = ctx.profile[(ctx.profile["dataset"] == "iod2025_scores") & (ctx.profile["measure"] == "imd_score") & (ctx.profile["level"] == "lsoa")]
    around["imd_score"] = around["area_code"].map(imd.set_index("area_code")["value"])
    around["in_area"] = around["area_code"].isin(ctx.neighbourhoods["area_code"]).astype(int)
    return around
