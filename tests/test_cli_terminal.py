"""What the command line prints on a terminal: people's questions and a file's bad values
can hold a terminal's escapes (clearing or recolouring the screen) and bidirectional
controls (reordering a line); they are shown as escapes, and do nothing. A pipe gets
the text as it is."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from bot.config import PROJECT_ROOT

HOSTILE = "\x1b[2J\x1b[31mgrant\u202e lanoitan"


def _config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"database:\n  url: sqlite:///{tmp_path / 'bot.db'}\n"
                    f"faq:\n  path: {PROJECT_ROOT / 'faq'}\n"
                    f"matching:\n  embedding: none\n{extra}", encoding="utf-8")
    return path


def _on_a_terminal(*args: str) -> str:
    """What ``ngo-faq-bot ARGS`` prints with its output and errors on a terminal."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", *args], cwd=PROJECT_ROOT,
                               stdin=subprocess.DEVNULL, stdout=follower, stderr=follower)
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal's other end closed
            break
        if not chunk:
            break
        out += chunk
    process.wait(timeout=60)
    os.close(leader)
    return out.decode()


def test_a_question_with_escapes_is_shown_with_them_escaped(tmp_path: Path) -> None:
    shown = _on_a_terminal("--config", str(_config(tmp_path)), "ask", HOSTILE)
    assert "? \\x1b[2J\\x1b[31mgrant\\u202e lanoitan" in shown
    assert "\x1b" not in shown and "\u202e" not in shown


def test_a_pipe_gets_the_question_as_it_is(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "bot.cli", "--config", str(_config(tmp_path)),
                           "ask", HOSTILE], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=60)
    assert f"? {HOSTILE}\n" in done.stdout


def test_a_configuration_setting_with_escapes_is_named_escaped(tmp_path: Path) -> None:
    config = _config(tmp_path, '"adm\\e[2Jins":\n  - 1\n')  # a YAML escape, as YAML allows
    shown = _on_a_terminal("--config", str(config), "faq", "check")
    assert "adm\\x1b[2Jins" in shown and "\x1b" not in shown


def test_the_import_progress_bar_still_redraws_its_line(tmp_path: Path) -> None:
    """The command line's own carriage return is not escaped: only what it prints of
    files and people is."""
    rows = tmp_path / "registry.csv"
    rows.write_text("nipt,name\nK11111111A,Shoqata e Bletarëve\n", encoding="utf-8")
    shown = _on_a_terminal("--config", str(_config(tmp_path)), "registry", "import", str(rows))
    assert "\rImporting [" in shown and "100%" in shown and "\\r" not in shown


def test_a_gheg_question_how_to_register_is_no_look_up(tmp_path: Path) -> None:
    """"Qysh me e regjistru ..." (how to register it) is a question, not "is it registered":
    the lexical matcher hands it on; it says no registered organisation matches nothing."""
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--config", str(_config(tmp_path)), "chat"],
        input="Qysh me e regjistru organizaten?\na osht e regjistrueme Shoqata Kaltra e Maleve?\n",
        capture_output=True, text=True, timeout=60, cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stderr
    assert "nuk përputhet me «Qysh me e regjistru" not in result.stdout
    assert "nuk përputhet me «a osht e regjistrueme Shoqata Kaltra e Maleve?»" in result.stdout
