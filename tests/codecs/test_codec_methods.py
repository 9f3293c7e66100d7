"""The method -> target table."""
import pytest

from integral_keras import codecs


def test_table_matches_the_paper_methods():
    assert codecs.METHODS == ("R1", "H1", "H2", "H3", "I1", "I2", "I3", "Istar")
    assert [codecs.heatmap_target_kind(m) for m in ("H1", "H2", "H3")] == ["gaussian", "one_hot", "disc"]
    for heatmap_method, integral_method in (("H1", "I1"), ("H2", "I2"), ("H3", "I3")):
        assert codecs.heatmap_target_kind(integral_method) == codecs.heatmap_target_kind(heatmap_method)
    assert [m for m in codecs.METHODS if codecs.uses_heatmaps(m)] == ["H1", "H2", "H3", "I1", "I2", "I3"]
    assert [m for m in codecs.METHODS if codecs.uses_joints(m)] == ["R1", "I1", "I2", "I3", "Istar"]


@pytest.mark.parametrize("query", [codecs.uses_heatmaps, codecs.uses_joints, codecs.heatmap_target_kind])
def test_unknown_method_names_the_valid_ones(query):
    with pytest.raises(ValueError, match="Unknown method 'istar'; expected one of R1, H1.*Istar"):
        query("istar")
