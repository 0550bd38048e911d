"""Model packs: the shipped packs load, and mistakes are reported with file, key and expectation."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from allpayer.config import PackError, load_pack
from allpayer.config.loader import PACKS


def test_vermont_pack():
    pack = load_pack("vermont")
    assert set(pack.programs) == {"medicare_vmng", "medicaid_vmng", "bcbsvt_qhp", "self_funded_employer"}
    targets = {y.year: (y.scale_targets.all_payer, y.scale_targets.medicare)
               for y in pack.performance_years if y.scale_targets}
    assert targets == {2018: (0.36, 0.60), 2019: (0.50, 0.75), 2020: (0.58, 0.79), 2021: (0.62, 0.83),
                       2022: (0.70, 0.90)}
    assert pack.payer_hierarchy[:3] == ["medicare", "medicare_advantage", "medicaid"]
    vmng = pack.program("medicaid_vmng").attribution
    assert vmng.timing == "prospective" and vmng.expanded.enabled and vmng.expanded.first_year == 2020
    assert pack.program("medicare_vmng").attribution.voluntary_alignment
    assert all(p.scale_target for p in pack.programs.values())
    assert [p.program_id for p in pack.programs_in(2023)] == ["medicaid_vmng", "medicare_vmng"]


def test_mssp_pack():
    pack = load_pack("mssp")
    retro = pack.program("mssp_retrospective").attribution
    assert (retro.timing, retro.lookback_months, retro.eligibility.exclude_coverage) == \
        ("retrospective", 12, ["medicare_advantage"])
    assert pack.program("mssp_prospective").attribution.window_offset_months == 3


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    dest = tmp_path / "pack"
    shutil.copytree(PACKS / "vermont", dest)
    return dest


@pytest.mark.parametrize(("old", "new", "error"), [
    pytest.param("lookback_months: 12", "lookback_months: 12\n  look_back: 9",
                 r"bcbsvt_qhp\.yaml: attribution\.look_back: Extra inputs are not permitted", id="unknown key"),
    pytest.param("timing: retrospective", "timing: yearly",
                 r"attribution\.timing: Input should be 'prospective', 'retrospective' or 'quarterly' \(got 'yearly'\)",
                 id="bad value says what was expected"),
    pytest.param("years: [2018", "years: [2030, 2018", r"program 'bcbsvt_qhp' runs in \[2030\]",
                 id="program years must be performance years"),
])
def test_program_file_errors_name_file_and_key(copy: Path, old: str, new: str, error: str):
    path = copy / "programs" / "bcbsvt_qhp.yaml"
    path.write_text(path.read_text().replace(old, new))
    with pytest.raises(PackError, match=error):
        load_pack(copy)


def test_pack_level_errors(copy: Path):
    main = copy / "pack.yaml"
    main.write_text(main.read_text().replace("convention: any_day", "convention: weekly"))
    with pytest.raises(PackError, match=r"pack\.yaml: member_months\.convention"):
        load_pack(copy)


def test_unknown_section_file_and_bad_yaml(copy: Path):
    (copy / "widgets.yaml").write_text("measures: []\n")
    with pytest.raises(PackError, match=r"widgets\.yaml: unknown pack section 'widgets'"):
        load_pack(copy)
    (copy / "widgets.yaml").unlink()
    # a known section is validated, and the error names its file and key
    (copy / "quality.yaml").write_text("measures: []\n")
    with pytest.raises(PackError, match=r"quality\.yaml: quality\.version: Field required"):
        load_pack(copy)
    (copy / "quality.yaml").unlink()
    (copy / "programs" / "broken.yaml").write_text("name: [unclosed\n")
    with pytest.raises(PackError, match=r"broken\.yaml: not valid YAML"):
        load_pack(copy)


def test_unknown_pack():
    with pytest.raises(PackError, match="no model pack 'nowhere'"):
        load_pack("nowhere")
