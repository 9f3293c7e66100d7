"""Results tables of a study: runs, the mean-pose floor row of the same data, the paper's numbers (or
"not transcribed"), and the results file with the verdicts."""
from integral_keras.apps.reproduction import claims
from integral_keras.apps.reproduction import paper
from integral_keras.apps.reproduction import studies
from integral_keras.apps.reproduction import tables
from integral_keras.configs import paper_numbers


def _cells(line):
    return [cell.strip() for cell in line.split("|")[1:-1]]


def test_2d_table_has_every_run_then_the_floor_in_the_same_columns():
    study = studies.get_study("backbones")
    results = {"resnet18_H1": {"PCK@0.5": 81.25, "PCK@0.1": 30.0, "AUC": 55.55},
               "resnet18_I1": {"PCK@0.5": 84.0, "PCK@0.1": 40.04, "AUC": 60.0}}
    floor = {"PCK@0.5": 60.2, "PCK@0.1": 10.94, "AUC": 30.6}
    table = tables.part_table(study, study.part("2d"), results, floor, {"resnet18_H1": 301.4})
    header, rule, *rows = table.splitlines()
    names = _cells(header)
    assert names == ["run", "backbone", "method", "PCK@0.5", "PCK@0.1", "AUC", "train s", "paper row",
                     "paper PCKh@0.5", "paper PCKh@0.1", "paper AUC"]
    assert rule.count("---") == len(names)
    assert [_cells(row)[0] for row in rows] == [run.name for run in study.runs] + [tables.FLOOR_LABEL]
    assert _cells(rows[0]) == ["resnet18_H1", "resnet18", "H1", "81.2", "30.0", "55.5", "301",
                               "Table 3, ResNet-18, H1", "not transcribed", "not transcribed", "not transcribed"]
    assert _cells(rows[1])[3:7] == ["84.0", "40.0", "60.0", "-"]
    assert _cells(rows[2])[3:6] == ["-", "-", "-"]  # not run yet
    floor_cells = _cells(rows[-1])
    assert floor_cells[names.index("PCK@0.5"):names.index("AUC") + 1] == ["60.2", "10.9", "30.6"]
    assert set(floor_cells) - {tables.FLOOR_LABEL, "60.2", "10.9", "30.6"} == {""}
    assert all(len(_cells(row)) == len(names) for row in rows)


def test_3d_table_reports_millimetres_and_the_papers_mpjpe_only_where_it_has_one():
    study = studies.get_study("strategy")
    table = tables.part_table(study, study.part("3d"), {"s2_I1": {"MPJPE": 250.04, "PA-MPJPE": 210.0}},
                              {"MPJPE": 286.0, "PA-MPJPE": 239.6})
    header, _, *rows = table.splitlines()
    names = _cells(header)
    assert names == ["run", "method", "strategy", "MPJPE mm", "PA-MPJPE mm", "train s", "paper row", "paper MPJPE",
                     "paper PA-MPJPE"]
    row = _cells(next(r for r in rows if r.startswith("| s2_I1 ")))
    assert row[names.index("MPJPE mm")] == "250.0"
    # Table 7 reports MPJPE (Protocol 2) only: its PA-MPJPE cell says the paper has no such number.
    assert row[names.index("paper MPJPE")] == "52.7 (quoted)"  # issue 13's quotation (configs/paper)
    assert row[names.index("paper PA-MPJPE")] == paper.NONE
    assert row[names.index("paper row")] == "Table 7, Strategy 2, I1"
    floor = _cells(rows[-1])
    assert [floor[names.index("MPJPE mm")], floor[names.index("PA-MPJPE mm")]] == ["286.0", "239.6"]


def test_a_transcribed_paper_number_is_printed():
    reference = paper_numbers.PaperReference(table="1", row="H1", results=(
        paper_numbers.PaperResult("PCKh@0.5", "mpii_val", 86.8, "transcribed", "test"),
        paper_numbers.PaperResult("PCKh@0.1", "mpii_val", None, "not_transcribed", "test"),
        paper_numbers.PaperResult("AUC", "mpii_val", 52.9, "quoted", "test")))
    reference.validate()
    assert paper.paper_cells(reference, ("PCK@0.5", "PCK@0.1", "AUC", "MPJPE")) == {
        "PCK@0.5": "86.8", "PCK@0.1": paper.NOT_TRANSCRIBED, "AUC": "52.9 (quoted)", "MPJPE": paper.NONE}
    assert paper.paper_cells(None, ("MPJPE",)) == {"MPJPE": paper.NONE}
    assert paper.paper_reference("no_such_config", studies.PAPER_DIR) is None


def test_study_markdown_has_tables_plot_and_verdicts():
    study = studies.get_study("resolution")
    verdicts = (claims.Verdict("claim one", claims.HELD, "a 2 vs b 1"),
                claims.Verdict("claim two", claims.NOT_HELD, "a 1 vs b 2"))
    text = tables.study_markdown(study, "small", {}, {"2d": {"PCK@0.1": 9.0}}, verdicts, plot_name="r.png",
                                 command="python scripts/reproduce.py --study=resolution --budget=small")
    assert text.startswith("## Study `resolution` (paper Tables 2 and 9), budget `small`")
    assert "python scripts/reproduce.py --study=resolution --budget=small" in text
    assert text.count(f"| {tables.FLOOR_LABEL} |") == 2  # one table per part, each with its floor
    assert "![resolution](r.png)" in text
    assert "- claim one: held (a 2 vs b 1)" in text
    assert "- claim two: not held on this data (a 1 vs b 2)" in text
    assert "600 training steps" in text
