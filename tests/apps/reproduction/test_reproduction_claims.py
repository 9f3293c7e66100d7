"""Verdicts of the paper's claims, computed from hand-made numbers: held, not held, not measured."""
import pytest

from integral_keras.apps.reproduction import claims


def test_beats_is_held_only_when_better_on_every_metric():
    claim = claims.Beats("I1", "H1", ("PCK@0.1", "AUC"))
    held = claim.evaluate({"I1": {"PCK@0.1": 35.2, "AUC": 55.0}, "H1": {"PCK@0.1": 20.1, "AUC": 45.3}})
    assert held.status == claims.HELD
    assert held.line() == ("I1 beats H1 on PCK@0.1 and AUC: held (PCK@0.1: I1 35.2 vs H1 20.1; "
                           "AUC: I1 55.0 vs H1 45.3)")
    # Better on PCK@0.1 but worse on AUC: not held; a tie is not a win either.
    worse_auc = {"I1": {"PCK@0.1": 35.2, "AUC": 40.0}, "H1": {"PCK@0.1": 20.1, "AUC": 45.3}}
    assert claim.evaluate(worse_auc).status == claims.NOT_HELD
    assert claim.evaluate(worse_auc).line().startswith("I1 beats H1 on PCK@0.1 and AUC: not held on this data (")
    tie = {"I1": {"PCK@0.1": 20.1, "AUC": 50.0}, "H1": {"PCK@0.1": 20.1, "AUC": 45.3}}
    assert claim.evaluate(tie).status == claims.NOT_HELD


def test_millimetres_are_better_when_lower():
    claim = claims.Beats("s2_I1", "s1_I1", ("MPJPE",), text="I1: Strategy 2 beats Strategy 1 on MPJPE")
    verdict = claim.evaluate({"s2_I1": {"MPJPE": 250.0}, "s1_I1": {"MPJPE": 260.5}})
    assert verdict.line() == ("I1: Strategy 2 beats Strategy 1 on MPJPE: held "
                              "(MPJPE: s2_I1 250.0 mm vs s1_I1 260.5 mm)")
    assert claim.evaluate({"s2_I1": {"MPJPE": 270.0}, "s1_I1": {"MPJPE": 260.5}}).status == claims.NOT_HELD


def test_a_missing_run_or_metric_is_not_measured():
    claim = claims.Beats("I1", "H1", ("PCK@0.1",))
    verdict = claim.evaluate({"I1": {"PCK@0.1": 35.0}})
    assert verdict.status == claims.NOT_MEASURED
    assert "missing: H1 PCK@0.1" in verdict.evidence
    assert claim.evaluate({"I1": {"AUC": 1.0}, "H1": {"PCK@0.1": 1.0}}).status == claims.NOT_MEASURED


def test_weakest():
    claim = claims.Weakest("R1", ("H1", "I1"), ("AUC",))
    held = claim.evaluate({"R1": {"AUC": 30.0}, "H1": {"AUC": 45.0}, "I1": {"AUC": 40.0}})
    assert held.status == claims.HELD
    assert "R1 30.0 vs worst other I1 40.0" in held.evidence
    not_held = claim.evaluate({"R1": {"AUC": 42.0}, "H1": {"AUC": 45.0}, "I1": {"AUC": 40.0}})
    assert not_held.status == claims.NOT_HELD
    assert "R1 42.0 vs worst other I1 40.0" in not_held.evidence


@pytest.mark.parametrize("i_high, h_high, i_low, h_low, status", [
    (30.0, 25.0, 20.0, 5.0, claims.HELD),        # margin +5 at (a), +15 at (d)
    (30.0, 20.0, 20.0, 15.0, claims.NOT_HELD),   # margin +10 at (a), +5 at (d)
    (30.0, 20.0, 25.0, 15.0, claims.NOT_HELD),   # the same margin: it did not grow
])
def test_gap_grows_on_a_higher_is_better_metric(i_high, h_high, i_low, h_low, status):
    claim = claims.GapGrows("I1_a", "H1_a", "I1_d", "H1_d", "PCK@0.1")
    verdict = claim.evaluate({"I1_a": {"PCK@0.1": i_high}, "H1_a": {"PCK@0.1": h_high},
                              "I1_d": {"PCK@0.1": i_low}, "H1_d": {"PCK@0.1": h_low}})
    assert verdict.status == status
    assert f"margin {i_high - h_high:+.1f} at high resolution" in verdict.evidence
    assert f"{i_low - h_low:+.1f} at low resolution" in verdict.evidence


def test_gap_grows_on_millimetres():
    claim = claims.GapGrows("I2_a", "H2_a", "I2_d", "H2_d", "MPJPE")
    # H2 loses 100 mm at low resolution, I2 10 mm: I2's margin grows from 5 to 95 mm.
    results = {"I2_a": {"MPJPE": 200.0}, "H2_a": {"MPJPE": 205.0}, "I2_d": {"MPJPE": 210.0},
               "H2_d": {"MPJPE": 305.0}}
    verdict = claim.evaluate(results)
    assert verdict.status == claims.HELD
    assert "margin +5.0 mm at high resolution" in verdict.evidence
    assert "+95.0 mm at low resolution" in verdict.evidence
    results["H2_d"] = {"MPJPE": 190.0}
    assert claim.evaluate(results).status == claims.NOT_HELD


def test_evaluate_and_count():
    verdicts = claims.evaluate_claims(
        [claims.Beats("a", "b", ("AUC",)), claims.Beats("b", "a", ("AUC",)), claims.Beats("a", "c", ("AUC",))],
        {"a": {"AUC": 2.0}, "b": {"AUC": 1.0}})
    assert [v.status for v in verdicts] == [claims.HELD, claims.NOT_HELD, claims.NOT_MEASURED]
    assert claims.verdict_counts(verdicts) == {claims.HELD: 1, claims.NOT_HELD: 1, claims.NOT_MEASURED: 1}
