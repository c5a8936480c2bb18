"""The thresholds a run must meet: ``--min system.metric=value`` on the command line and ``[system] metric =
value`` in a TOML file (``eval/thresholds.toml`` holds the ones CI uses); each one not met fails the run."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

from eval.scoring import METRICS
from eval.systems import SYSTEMS


def parse_thresholds(specs: list[str], path: Path | None) -> dict[tuple[str, str], float]:
    """``system.metric=value`` pairs from the command line and ``[system] metric = value`` from TOML."""
    out: dict[tuple[str, str], float] = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise SystemExit(f"qa eval: cannot read the thresholds {path}: {error}") from None
        for system, values in data.items():
            if not isinstance(values, dict):
                raise SystemExit(f"qa eval: {path}: [{system}] must be a table of metric = value")
            for metric, value in values.items():
                out[_check_threshold(system, metric, value, str(path))] = float(value)
    for spec in specs:
        key, _, value = spec.partition("=")
        system, _, metric = key.strip().partition(".")
        try:
            number = float(value)
        except ValueError:
            raise SystemExit(f"qa eval: --min {spec!r}: the value must be a number, as in "
                             "--min llm.correct=0.7") from None
        out[_check_threshold(system, metric.strip(), number, "--min")] = number
    return out


def _check_threshold(system: str, metric: str, value: object, where: str) -> tuple[str, str]:
    if system not in SYSTEMS:
        raise SystemExit(f"qa eval: {where}: unknown system {system!r}; the systems are {', '.join(SYSTEMS)}")
    if metric not in METRICS and metric not in ("p50_s", "p95_s"):
        raise SystemExit(f"qa eval: {where}: unknown metric {metric!r}; the metrics are "
                         f"{', '.join(METRICS)}, p50_s, p95_s")
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise SystemExit(f"qa eval: {where}: {system}.{metric} must be a number, got {value!r}")
    return system, metric


def failures(summaries: dict[str, dict[str, float]], thresholds: dict[tuple[str, str], float]) -> list[str]:
    """Each threshold not met, as a line; a threshold on a system that did not run is skipped."""
    out = []
    for (system, metric), limit in sorted(thresholds.items()):
        if system not in summaries:
            continue
        value = summaries[system][metric]
        lower_is_better = metric in ("false_abstain", "p50_s", "p95_s")
        if math.isnan(value) or (value > limit if lower_is_better else value < limit):
            relation = "above" if lower_is_better else "below"
            out.append(f"{system}.{metric} = {value:.3f} is {relation} the threshold {limit}")
    return out
