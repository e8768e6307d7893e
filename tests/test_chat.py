"""``ngo-faq-bot chat`` and ``ngo-faq-bot run`` as people start them: real processes,
the bundled FAQ and sample registry, a SQLite file, questions through a pipe."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from bot.conversation import MATCHER_WAIT
from bot.faq import load_faq
from botapi import BotApiServer
from botapi.harness import PROJECT_ROOT

CLI = str(Path(sys.executable).with_name("ngo-faq-bot"))
FAQ = load_faq(PROJECT_ROOT / "faq")


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "LANG")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}", **extra)
    return env


def chat(tmp_path: Path, lines: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args] if args else [CLI, "chat"], input="\n".join(lines) + "\n",
                          capture_output=True, text=True, timeout=60, env=environment(tmp_path),
                          cwd=tmp_path)


def test_chat_answers_from_a_pipe_with_numbered_buttons(tmp_path: Path) -> None:
    entry = FAQ.get("ngo-statute-changes")
    result = chat(tmp_path, ["Si ndryshoj statutin?", "2",
                             "Shoqata e Bletareve te Zallit te Arte"])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Përshëndetje! Jam asistenti virtual")
    assert "  [1] Agjencia (AMShC)" in out
    assert entry.answer_in("sq")[:80] in out
    assert "  [1] 👍\n  [2] 👎" in out
    assert "(Faleminderit për vlerësimin!)\nMë vjen keq që nuk ju ndihmoi." in out
    assert "NIPT: " in out and "Shoqata e Bletarëve të Zallit të Artë (SHBZA)" in out
    assert "<b>" not in out and "&quot;" not in out


def test_chat_keeps_the_language_between_runs(tmp_path: Path) -> None:
    first = chat(tmp_path, ["/lang", "2"])
    assert "  [1] Shqip\n  [2] English" in first.stdout
    assert first.stdout.rstrip().endswith("Language changed: English.")
    second = chat(tmp_path, ["/contact"])
    assert second.stdout.startswith("Hello! I am the virtual assistant")
    assert "Address: " in second.stdout
    # --lang says the language to start in, whatever was chosen before (it was ignored).
    third = chat(tmp_path, ["/contact"], "chat", "--lang", "sq")
    assert third.stdout.startswith("Përshëndetje! Jam asistenti virtual")
    assert chat(tmp_path, ["/contact"]).stdout.startswith("Përshëndetje!")


def test_chat_treats_bad_input_sanely(tmp_path: Path) -> None:
    long_line = "pyetje <b>e gjatë</b> & " * 200
    # "²" is a digit to str.isdigit, not a number to int(): not a button's number
    result = chat(tmp_path, ["", "/nosuch", long_line, "7", "99",
                             "how do I apply for a grant", "²"])
    assert result.returncode == 0, result.stderr
    assert "Nuk e njoh këtë komandë." in result.stdout
    assert "Traceback" not in result.stderr


def test_chat_takes_a_line_that_is_not_utf8(tmp_path: Path) -> None:
    result = subprocess.run([CLI, "chat", "--lang", "en"], input=b"caf\xe9 registration\n/help\n",
                            capture_output=True, timeout=60, env=environment(tmp_path),
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert b"Traceback" not in result.stderr
    assert "How I can help" in result.stdout.decode()


def test_run_without_a_token_explains_botfather_and_starts_the_chat(tmp_path: Path) -> None:
    result = chat(tmp_path, ["/contact"], "run")
    assert result.returncode == 0, result.stderr
    assert "@BotFather" in result.stderr or "BotFather" in result.stderr
    assert "TELEGRAM_BOT_TOKEN" in result.stderr
    assert result.stdout.startswith("Përshëndetje!")
    assert "info@amshc.gov.al" in result.stdout
    # A mistyped worker option is named, token or not.
    for option, message in ((("--workers", "0"), "--workers must be 1 or more"),
                            (("--worker", "3/2"), "--worker 3/2: I must be from 0 to N-1")):
        result = chat(tmp_path, ["/contact"], "run", *option)
        assert result.returncode == 2 and result.stderr == f"error: {message}\n"
    # Workers without a token: said, not a terminal chat that ignores them.
    for option in (("--workers", "3"), ("--worker", "1/2")):
        result = chat(tmp_path, ["/contact"], "run", *option)
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr.startswith("error: workers serve Telegram and need its token")


async def test_run_with_a_token_serves_telegram_until_sigterm(tmp_path: Path) -> None:
    async with BotApiServer() as api:
        config = yaml.safe_load((PROJECT_ROOT / "config.yaml").read_text(encoding="utf-8"))
        config["telegram"]["api_base_url"] = api.base_url
        config["registry"]["sample_csv"] = str(PROJECT_ROOT / config["registry"]["sample_csv"])
        config["faq"]["path"] = str(PROJECT_ROOT / config["faq"]["path"])
        config["matching"]["embedding_cache"] = str(PROJECT_ROOT / "data" / "embeddings")
        (tmp_path / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
        process = await asyncio.create_subprocess_exec(
            CLI, "--config", str(tmp_path / "config.yaml"), "run",
            env=environment(tmp_path, TELEGRAM_BOT_TOKEN=api.token),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            await api.wait_for("setMyCommands", timeout=30)
            since = api.mark()
            await api.send_text(api.user(3001), "/contact")
            [reply] = await api.replies(3001, since=since, timeout=30)
            assert "info@amshc.gov.al" in reply.text
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), 30)
        log = stderr.decode()
        assert process.returncode == 0, log
        assert "is running" in log
        assert "apscheduler" not in log  # no line per job added or run
        assert api.token not in log and api.token.split(":")[1] not in log


def test_chat_with_a_broken_faq_explains_the_problem(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nentries:\n  - id: Bad Id\n    questions: [oops\n",
                      encoding="utf-8")
    result = subprocess.run([CLI, "chat"], input="", capture_output=True, text=True, timeout=60,
                            env=environment(tmp_path, FAQ_PATH=str(broken)), cwd=tmp_path)
    assert result.returncode == 2
    assert "broken.yaml" in result.stderr and "Traceback" not in result.stderr


def test_email_and_phone_links_are_shown_as_people_write_them(tmp_path: Path) -> None:
    entry = next(e for e in FAQ.entries if any(url.startswith("mailto:") for _, url in e.links))
    out = chat(tmp_path, [entry.question_in("sq")]).stdout
    address = next(url for _, url in entry.links if url.startswith("mailto:"))[len("mailto:"):]
    assert f": {address}" in out
    assert "mailto:" not in out


def test_a_first_start_answers_at_once_while_the_model_embeds_the_faq(tmp_path: Path) -> None:
    """No vectors kept yet (a first start): the model embeds the whole FAQ, half a minute
    here. A question does not wait for it (MATCHER_WAIT is for a restart, whose build takes
    a second): it is answered at once, lexically."""
    config = yaml.safe_load((PROJECT_ROOT / "config.yaml").read_text(encoding="utf-8"))
    config["registry"]["sample_csv"] = str(PROJECT_ROOT / config["registry"]["sample_csv"])
    config["faq"]["path"] = str(PROJECT_ROOT / config["faq"]["path"])
    config["matching"]["embedding_cache"] = str(tmp_path / "embeddings")  # none kept
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    entry = FAQ.get("ngo-statute-changes")
    assert entry is not None
    started = time.monotonic()
    result = subprocess.run(
        [CLI, "--config", str(tmp_path / "config.yaml"), "chat", "--lang", "en"],
        input=entry.question_in("en") + "\n", capture_output=True, text=True, timeout=60,
        env=environment(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert entry.answer_in("en")[:80] in result.stdout
    assert time.monotonic() - started < MATCHER_WAIT


def test_a_link_titled_with_its_own_address_is_shown_once(tmp_path: Path) -> None:
    entry = next(e for e in FAQ.entries
                 if any(url.split("://")[-1].startswith(title) for title, url in e.links))
    title, url = next((t, u) for t, u in entry.links if u.split("://")[-1].startswith(t))
    out = chat(tmp_path, [entry.question_in("sq")]).stdout
    assert f"• {url}\n" in out and f"{title}: " not in out


def test_an_organisations_card_in_english_gives_its_form_and_status_in_english(
        tmp_path: Path) -> None:
    result = chat(tmp_path, ["Shoqata e Bletareve te Zallit te Arte"], "chat", "--lang", "en")
    assert "Legal form: Association" in result.stdout and "Status: active" in result.stdout
    albanian = chat(tmp_path, ["Shoqata e Bletareve te Zallit te Arte"], "chat", "--lang", "sq")
    assert "Forma ligjore: Shoqatë" in albanian.stdout and "Statusi: aktive" in albanian.stdout


def test_a_vote_keeps_the_button_of_the_other_question_asked(tmp_path: Path) -> None:
    office = FAQ.get("ascs-address")
    result = chat(tmp_path, ["ku e keni zyren dhe cfare orari keni?", "1", "1"])
    assert result.returncode == 0, result.stderr
    # 👍 under the hours' answer; the office's button stays, numbered again, and goes.
    label = office.question_in("sq")
    assert f"(Faleminderit për vlerësimin!)\n  [1] {label}\n" in result.stdout
    assert office.answer_in("sq")[:80] in result.stdout
    # 👎: the apology, then the office's button still there.
    result = chat(tmp_path, ["ku e keni zyren dhe cfare orari keni?", "2", "1"])
    assert result.stdout.count(office.answer_in("sq")[:80]) == 1
    assert "Më vjen keq që nuk ju ndihmoi." in result.stdout


def test_a_config_copied_to_another_folder_names_the_demo_registrys_setting(
        tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text((PROJECT_ROOT / "config.yaml").read_text(
        encoding="utf-8"), encoding="utf-8")
    result = chat(tmp_path, ["hi"], "--config", "config.yaml", "chat")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(
        f"error: cannot import the sample registry: {tmp_path / 'bot' / 'data'}")
    assert "registry.sample_csv in the config" in result.stderr
    assert "null to start with an empty one" in result.stderr


def test_the_chat_reads_the_faq_files_again_when_they_change(tmp_path: Path) -> None:
    """An admin trying an edit out in the terminal sees it, as the Telegram bot's admins do."""
    faq = tmp_path / "faq.yaml"
    text = ("version: 1\nentries:\n  - id: hours\n    questions:\n"
            "      en: [When are you open?]\n    answer:\n      en: {answer}\n")
    faq.write_text(text.format(answer="From eight to four."), encoding="utf-8")
    with subprocess.Popen([CLI, "chat", "--lang", "en"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True, cwd=tmp_path,
                          env=environment(tmp_path, FAQ_PATH=str(faq))) as process:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write("When are you open?\n")
        process.stdin.flush()
        while "From eight to four." not in (line := process.stdout.readline()):
            assert line, "the chat ended before answering"
        faq.write_text(text.format(answer="From nine to five."), encoding="utf-8")
        os.utime(faq, (time.time() + 5, time.time() + 5))  # seen as changed at any clock
        out, _ = process.communicate("When are you open?\n", timeout=60)
    assert "The FAQ was reloaded: 1 entries.\nAdded: none\nRemoved: none\nChanged: hours" in out
    assert out.rstrip().split("\n\n")[-2] == "From nine to five."
