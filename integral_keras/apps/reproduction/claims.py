"""The paper's claims as checks on measured numbers, each giving a one-line verdict.

A claim compares runs of one study on named metrics. Higher is better for the PCK metrics and the AUC (percent),
lower for MPJPE and PA-MPJPE (mm). Every verdict is computed from the metrics alone:

- `Beats(winner, loser, metrics)`: held when `winner` is better than `loser` on every metric listed;
- `Weakest(run, others, metrics)`: held when `run` is worse than each of `others` on every metric listed;
- `GapGrows(better, worse, better_low, worse_low, metric)`: held when the margin of `better_low` over `worse_low`
  (the two methods at the lowest resolution) exceeds the margin of `better` over `worse` (at the highest): the first
  method loses less than the other when the resolution drops.

A claim whose runs have not all finished (or lack a metric) is `not measured`, never held.
"""
import dataclasses
from typing import Dict, Mapping, Sequence, Tuple

HELD = "held"
NOT_HELD = "not held on this data"
NOT_MEASURED = "not measured"
#: metrics where a lower value is better; every other metric is better when higher.
LOWER_IS_BETTER = ("MPJPE", "PA-MPJPE")
#: how a metric's value is printed in a verdict.
UNITS = {"MPJPE": " mm", "PA-MPJPE": " mm"}

Metrics = Mapping[str, Mapping[str, float]]  # run name -> metric name -> value


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The outcome of one claim.

    Attributes:
      claim: the claim in words (e.g. "I1 beats H1 on PCK@0.1 and AUC").
      status: `HELD`, `NOT_HELD` or `NOT_MEASURED`.
      evidence: the numbers that decided it, e.g. "I1 35.2 vs H1 20.1 PCK@0.1; 55.0 vs 45.3 AUC".
    """

    claim: str
    status: str
    evidence: str

    def line(self) -> str:
        """`"<claim>: <status> (<evidence>)"`, one line."""
        return f"{self.claim}: {self.status} ({self.evidence})"


def better(metric: str, a: float, b: float) -> bool:
    """Whether value `a` is strictly better than `b` for `metric`."""
    return a < b if metric in LOWER_IS_BETTER else a > b


def margin(metric: str, a: float, b: float) -> float:
    """How much `a` is better than `b` for `metric` (positive when better), in the metric's unit."""
    return b - a if metric in LOWER_IS_BETTER else a - b


def _value(metric: str, value: float) -> str:
    return f"{value:.1f}{UNITS.get(metric, '')}"


def _missing(results: Metrics, runs: Sequence[str], metrics: Sequence[str]) -> Tuple[str, ...]:
    return tuple(f"{run} {metric}" for run in runs for metric in metrics
                 if run not in results or results[run].get(metric) is None)


class Claim:
    """Base of the claims: `evaluate` gives `NOT_MEASURED` when a run or metric is missing, else asks `decide`.

    A subclass has a `claim` (the claim in words), `runs()` (the runs it compares) and `decide(results)`.
    """

    def runs(self) -> Tuple[str, ...]:
        raise NotImplementedError

    def compared_metrics(self) -> Tuple[str, ...]:
        return tuple(self.metrics)

    def decide(self, results: Metrics) -> Tuple[bool, str]:
        """`(held, evidence)` from complete results."""
        raise NotImplementedError

    def evaluate(self, results: Metrics) -> Verdict:
        """The verdict of the claim on `results` (run name -> metric -> value)."""
        missing = _missing(results, self.runs(), self.compared_metrics())
        if missing:
            return Verdict(self.claim, NOT_MEASURED, "missing: " + ", ".join(missing))
        held, evidence = self.decide(results)
        return Verdict(self.claim, HELD if held else NOT_HELD, evidence)


@dataclasses.dataclass(frozen=True)
class Beats(Claim):
    """`winner` is better than `loser` on every metric of `metrics`."""

    winner: str
    loser: str
    metrics: Tuple[str, ...]
    text: str = ""

    @property
    def claim(self) -> str:
        return self.text or f"{self.winner} beats {self.loser} on {' and '.join(self.metrics)}"

    def runs(self) -> Tuple[str, ...]:
        return (self.winner, self.loser)

    def decide(self, results: Metrics) -> Tuple[bool, str]:
        win, lose = results[self.winner], results[self.loser]
        held = all(better(m, win[m], lose[m]) for m in self.metrics)
        evidence = "; ".join(f"{m}: {self.winner} {_value(m, win[m])} vs {self.loser} {_value(m, lose[m])}"
                             for m in self.metrics)
        return held, evidence


@dataclasses.dataclass(frozen=True)
class Weakest(Claim):
    """`run` is worse than every run of `others` on every metric of `metrics`."""

    run: str
    others: Tuple[str, ...]
    metrics: Tuple[str, ...]
    text: str = ""

    @property
    def claim(self) -> str:
        return self.text or f"{self.run} is the weakest on {' and '.join(self.metrics)}"

    def runs(self) -> Tuple[str, ...]:
        return (self.run,) + tuple(self.others)

    def decide(self, results: Metrics) -> Tuple[bool, str]:
        mine = results[self.run]
        held = all(better(m, results[other][m], mine[m]) for other in self.others for m in self.metrics)
        parts = []
        for m in self.metrics:
            rivals = [(other, results[other][m]) for other in self.others]
            # The rival closest to (or past) the run decides the claim: the worst of the others.
            name, value = min(rivals, key=lambda item: margin(m, item[1], mine[m]))
            parts.append(f"{m}: {self.run} {_value(m, mine[m])} vs worst other {name} {_value(m, value)}")
        return held, "; ".join(parts)


@dataclasses.dataclass(frozen=True)
class GapGrows(Claim):
    """The margin of `better` over `worse` is larger at the lowest resolution than at the highest.

    Attributes:
      better: run of the method expected to suffer less, at the highest resolution.
      worse: run of the other method at the highest resolution.
      better_low: run of the first method at the lowest resolution.
      worse_low: run of the other method at the lowest resolution.
      metric: the metric compared.
      text: the claim in words (default generated).
    """

    better: str
    worse: str
    better_low: str
    worse_low: str
    metric: str
    text: str = ""

    @property
    def claim(self) -> str:
        return self.text or (f"the margin of {self.better} over {self.worse} on {self.metric} grows from "
                             f"{self.better} to {self.better_low}")

    def runs(self) -> Tuple[str, ...]:
        return (self.better, self.worse, self.better_low, self.worse_low)

    def compared_metrics(self) -> Tuple[str, ...]:
        return (self.metric,)

    def decide(self, results: Metrics) -> Tuple[bool, str]:
        m = self.metric
        value = {run: results[run][m] for run in self.runs()}
        high = margin(m, value[self.better], value[self.worse])
        low = margin(m, value[self.better_low], value[self.worse_low])
        unit = UNITS.get(m, "")
        evidence = (f"{m} margin {high:+.1f}{unit} at high resolution ({self.better} {_value(m, value[self.better])} "
                    f"vs {self.worse} {_value(m, value[self.worse])}), {low:+.1f}{unit} at low resolution "
                    f"({self.better_low} {_value(m, value[self.better_low])} vs {self.worse_low} "
                    f"{_value(m, value[self.worse_low])})")
        return low > high, evidence


def evaluate_claims(claims: Sequence, results: Metrics) -> Tuple[Verdict, ...]:
    """The verdict of every claim on `results` (run name -> metrics)."""
    return tuple(claim.evaluate(results) for claim in claims)


def verdict_counts(verdicts: Sequence[Verdict]) -> Dict[str, int]:
    """`{HELD: n, NOT_HELD: m, NOT_MEASURED: k}`."""
    return {status: sum(v.status == status for v in verdicts) for status in (HELD, NOT_HELD, NOT_MEASURED)}
