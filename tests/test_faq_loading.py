"""Loading and validating FAQ files: every problem named with file, line and entry."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.faq import FaqError, check_faq, load_faq

GOOD = """\
version: 1
entries:
  - id: ngo-registration
    category: registration
    questions:
      sq:
        - Si regjistrohet një OJF?
      en:
        - How do I register an NGO?
    answer:
      sq: Në gjykatën e Tiranës.
      en: At the Tirana court.
    keywords:
      sq: [regjistrim]
      en: [registration]
    links:
      - title: ASCS
        url: https://www.amshc.gov.al
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(FaqError) as caught:
        load_faq(path)
    return [str(p) for p in caught.value.problems]


def entry(body: str, entry_id: str = "ngo-x") -> str:
    """A file with one entry whose fields after the id are ``body``."""
    return f"version: 1\nentries:\n  - id: {entry_id}\n" + textwrap.indent(
        textwrap.dedent(body), "    ")


def test_good_file_loads(tmp_path: Path) -> None:
    faq = load_faq(write(tmp_path, "faq.yaml", GOOD))
    item = faq.get("ngo-registration")
    assert item is not None and len(faq) == 1
    assert item.questions["en"] == ("How do I register an NGO?",)
    assert item.answer_in("en") == "At the Tirana court."
    assert item.answer_in("fr") == "Në gjykatën e Tiranës."
    assert item.question_in("sq") == "Si regjistrohet një OJF?"
    assert item.keywords == {"sq": ("regjistrim",), "en": ("registration",)}
    assert item.links == (("ASCS", "https://www.amshc.gov.al"),)
    assert item.source_line == 3 and item.source_file.endswith("faq.yaml")
    assert faq.languages == ("en", "sq") and faq.phrasing_count == 2
    assert faq.categories() == ["registration"]


def test_yaml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", GOOD.replace("        - How do I register an NGO?",
                                                         "        - [How do I register"))
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:")
    assert "YAML syntax error" in problem
    line, column = problem.split(":")[1:3]
    assert line.isdigit() and int(line) >= 9 and column.isdigit()


@pytest.mark.parametrize(("mistake", "told"), [
    # An answer indented one space short of its question's.
    (("    answer:", "   answer:"), ":10:4: YAML syntax error: while parsing a block collection "
     "expected <block end>, but found '<block mapping start>' (this line is indented "
     "differently from the lines it belongs with"),
    (("        - How do I register an NGO?", '        - "How do I register an NGO?'),
     "a quote opened on line 9 is never closed"),
    (("        - How do I register an NGO?", "        - [How do I register an NGO?"),
     "a '[' or '{' opened on line 9 is not closed on its line"),
    (("        - How do I register an NGO?", "        - How do I register an NGO?\n"
      "        and run it"), "a ':' missing, or a text without quotes"),
    (("      en: At the Tirana court.", "      en: “Note: at the Tirana court”"),
     "(curly quotes “ ” are not quotes to YAML, only straight ones"),
    (("      en: At the Tirana court.", "      en:  “Note: at the Tirana court”"),
     "(curly quotes “ ” are not quotes to YAML, only straight ones"),
    # An apostrophe inside a word is no quote: the colon is the mistake.
    (("      sq: Në gjykatën e Tiranës.", "      sq: Shënim: t’ju kujtojmë orarin"),
     "(a text containing ': ' needs quotes"),
    (("      en: At the Tirana court.", "\u00a0     en: At the Tirana court."),
     ":12:1: the line is indented with a non-breaking space (U+00A0), as a word processor "
     "or a web page writes it: indent with plain spaces"),
    (("        - How do I register an NGO?\n", "        - [Where is room #5?]\n"),
     "on line 9, ' #' starts a comment in YAML, so the rest of the line, its ']' or '}' "
     "too, is not read"),
])
def test_a_yaml_mistake_is_told_in_words_an_admin_knows(
        tmp_path: Path, mistake: tuple[str, str], told: str) -> None:
    assert mistake[0] in GOOD
    path = write(tmp_path, "broken.yaml", GOOD.replace(*mistake))
    (problem,) = problems_of(path)
    assert told in problem


@pytest.mark.parametrize(("items", "cut"), [
    ("[Please, how do you open an NGO?]", "'Please' and 'how do you open an NGO?'"),
    ("[If we have no statute, what should we do?]", "'If we have no statute' and"),
    ("[Nëse nuk kemi statut, çfarë duhet të bëjmë?]", "'Nëse nuk kemi statut' and"),
    ("[After registration, how do we open an account?]", "'After registration' and"),
    ("[We registered, but the bank refused]", "'We registered' and 'but the bank refused'"),
])
def test_a_list_in_brackets_cut_inside_a_sentence_is_refused(
        tmp_path: Path, items: str, cut: str) -> None:
    path = write(tmp_path, "cut.yaml", GOOD.replace(
        "      en:\n        - How do I register an NGO?", f"      en: {items}"))
    (problem,) = problems_of(path)
    assert f"a comma ends an item of a list in [...], so {cut}" in problem


def test_a_question_cut_at_its_comma_in_a_list_in_brackets_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "comma.yaml", GOOD.replace(
        "      sq:\n        - Si regjistrohet një OJF?",
        "      sq: [Përshëndetje, si regjistrohet një OJF?, Orari, Kontakt]"))
    (problem,) = problems_of(path)
    assert problem == (
        f"{path}:6: entry 'ngo-registration': questions 'sq': a comma ends an item of a list "
        "in [...], so 'Përshëndetje' and 'si regjistrohet një OJF?' are two texts: put the "
        "whole text in quotes (\"...\"), or write the list one item a line (- ...)")
    # A keyword, then a question: two texts indeed.
    path.write_text(GOOD.replace("      sq:\n        - Si regjistrohet një OJF?",
                                 "      sq: [Regjistrimi, si regjistrohet një OJF?]"),
                    encoding="utf-8")
    assert load_faq(path).entries[0].questions["sq"] == ("Regjistrimi",
                                                         "si regjistrohet një OJF?")


def test_a_text_block_may_indent_its_lines_with_non_breaking_spaces(tmp_path: Path) -> None:
    path = write(tmp_path, "block.yaml", GOOD.replace(
        "      en: At the Tirana court.",
        "      en: |\n        Opening hours:\n        \u00a0\u00a0Monday: 8-16\n"
        "        \u00a0- statute"))
    assert load_faq(path).entries[0].answer_in("en") == (
        "Opening hours:\n\u00a0\u00a0Monday: 8-16\n\u00a0- statute")
    # Where YAML wants its indentation, not after the block's own: refused by name.
    path.write_text(GOOD.replace("      en: At the Tirana court.",
                                 "      en: At the Tirana\n" + "\u00a0" * 8 + "court."),
                    encoding="utf-8")
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:") and (
        "a line here is indented with a non-breaking space, U+00A0" in problem)
    # A line of only a non-breaking space in a block (an empty paragraph pasted) is text.
    path.write_text(GOOD.replace("      en: At the Tirana court.",
                                 "      en: |\n        At the\n        \u00a0\n        court."),
                    encoding="utf-8")
    assert load_faq(path).entries[0].answer_in("en") == "At the\n\u00a0\ncourt."


def test_a_question_of_two_entries_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD)
    copy = write(tmp_path, "b.yaml", entry("""\
        questions:
          en: ["how do I register an NGO"]
        answer:
          en: Elsewhere.
    """, "ngo-copy"))
    assert problems_of(tmp_path) == [
        f"{copy}:3: entry 'ngo-copy': the question 'how do I register an NGO' is also one of "
        f"entry 'ngo-registration' ({tmp_path / 'a.yaml'}:3): the bot cannot tell which "
        "answers it; keep it in one entry"]


def test_a_file_saved_as_windows_1252_is_told_where_and_how_to_save_it(tmp_path: Path) -> None:
    path = tmp_path / "legacy.yaml"
    path.write_bytes(GOOD.encode("cp1252"))  # "ë" as one byte, on line 7
    assert problems_of(path) == [f"{path}:7: not UTF-8 text (save it as UTF-8: in Notepad, "
                                 "Save As and Encoding UTF-8)"]
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode())  # Notepad's UTF-8
    assert load_faq(path).entries[0].question_in("sq") == "Si regjistrohet një OJF?"


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.yaml", "# nothing yet\n")
    assert problems_of(path) == [f"{path}: the file is empty (expected 'version: 1' and "
                                 "'entries:')"]


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    path = write(tmp_path, "typo.yaml", entry("""\
        qestions:
          en: [What is it]
        answer:
          en: It is.
    """))
    problems = problems_of(path)
    assert f"{path}:4: entry 'ngo-x': unknown key 'qestions' (did you mean 'questions'?)" \
        in problems
    assert f"{path}:3: entry 'ngo-x': missing 'questions'" in problems


@pytest.mark.parametrize("body, line, message", [
    ("questions:\n  en: [Why]\n", 3, "missing 'answer'"),
    ("answer:\n  en: Because.\n", 3, "missing 'questions'"),
    ("questions:\n  en: [Why]\n  sq: [Pse]\nanswer:\n  en: Because.\n", 8,
     "no answer in 'sq', but there are questions in 'sq'"),
    ("questions:\n  en: Why?\nanswer: Because.\n", 6, "answer must be a mapping, not 'Because.'"),
    ("questions:\n  en: [[Why]]\nanswer:\n  en: Because.\n", 5,
     "an item of questions 'en' must be text, not a list"),
    ("questions:\n  en:\n    - Our phone changed: who do we tell?\nanswer:\n  en: Us.\n", 6,
     "an item of questions 'en' must be text, not a mapping (a text containing ': ' needs "
     "quotes"),
    ("questions:\n  en: [Why]\nanswer:\n  en: Because.\nlinks:\n  - title: x\n    url: ftp://x\n",
     10, "link url 'ftp://x' must start with"),
    ("questions:\n  en: [Why]\nanswer:\n  en: yes\n", 7, "answer 'en' must be text, not yes/no"),
    # ' #' starts a comment: the text would silently stop before it.
    ("questions:\n  en: [Why]\nanswer:\n  en: The fee is 100 lek #paid at the bank\n", 7,
     "answer 'en' stops before a '#': in YAML, ' #' starts a comment"),
    ("questions:\n  en:\n    - Is room #5 open?\nanswer:\n  en: Yes.\n", 6,
     "an item of questions 'en' stops before a '#'"),
])
def test_entry_problems(tmp_path: Path, body: str, line: int, message: str) -> None:
    path = write(tmp_path, "faq.yaml", entry(body))
    problems = problems_of(path)
    assert any(p.startswith(f"{path}:{line}: entry 'ngo-x': {message}") for p in problems), \
        problems


def test_a_hash_inside_quotes_or_a_block_is_text(tmp_path: Path) -> None:
    path = write(tmp_path, "faq.yaml", entry("""\
        questions:
          en: ["Is room #5 open?", 'What is #NAD?']
        answer:
          en: >-
            Room #5 is open
            on Mondays.
        """))
    [item] = load_faq(path).entries
    assert item.questions["en"] == ("Is room #5 open?", "What is #NAD?")
    assert item.answers["en"] == "Room #5 is open on Mondays."


def test_missing_id_and_bad_id(tmp_path: Path) -> None:
    path = write(tmp_path, "ids.yaml", """\
        version: 1
        entries:
          - questions: {en: [Why]}
            answer: {en: Because.}
          - id: Bad_Id
            questions: {en: [Why]}
            answer: {en: Because.}
    """)
    problems = problems_of(path)
    assert f"{path}:3: missing 'id'" in problems
    assert any(p.startswith(f"{path}:5: entry 'Bad_Id': bad id 'Bad_Id'") for p in problems)


def test_an_id_too_long_for_a_button_is_refused(tmp_path: Path) -> None:
    long_id = "-".join(["registration"] * 5)  # 64 characters
    path = write(tmp_path, "ids.yaml", f"""\
        version: 1
        entries:
          - id: {long_id}
            questions: {{en: [Why]}}
            answer: {{en: Because.}}
    """)
    assert problems_of(path) == [
        f"{path}:3: entry '{long_id}': id '{long_id}' is too long: use at most 58 characters"]


def test_duplicate_ids_across_files_name_both_places(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD)
    second = write(tmp_path, "b.yaml", GOOD)
    (problem,) = problems_of(tmp_path)
    first = tmp_path / "a.yaml"
    assert problem == (f"{second}:3: entry 'ngo-registration': duplicate id: already used at "
                       f"{first}:3")


def test_every_problem_is_reported_in_one_pass(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "version: 1\nentries:\n  - id: x\n    questions: {en: [Q]}\n")
    write(tmp_path, "b.yaml", "version: 2\nentries: []\n")
    write(tmp_path, "c.yaml", "version: 1\nentries:\n  - id: y\n    answr: {en: A}\n")
    problems = problems_of(tmp_path)
    assert len(problems) >= 5
    assert {p.split(":")[0].rsplit("/", 1)[-1] for p in problems} == {"a.yaml", "b.yaml",
                                                                      "c.yaml"}


def test_folder_loads_every_yaml_file(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yaml", GOOD.replace("ngo-registration", "ngo-other")
          .replace("register an NGO", "close an NGO").replace("regjistrohet", "mbyllet"))
    (tmp_path / "notes.txt").write_text("not a FAQ", encoding="utf-8")
    faq = load_faq(tmp_path)
    assert [e.id for e in faq.entries] == ["ngo-registration", "ngo-other"]
    assert len(faq.sources) == 2


def test_loading_is_all_or_nothing(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yaml", entry("questions:\n  en: [Why]\n"))
    faq, problems = check_faq(tmp_path)
    assert faq is None and len(problems) == 1
    with pytest.raises(FaqError) as caught:
        load_faq(tmp_path)
    assert "missing 'answer'" in str(caught.value)


def test_missing_path(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "nope.yaml") == [f"{tmp_path / 'nope.yaml'}: no such file "
                                                    "or folder"]


def test_a_faq_the_bot_cannot_put_in_use_is_reported_and_the_last_good_one_kept(
        tmp_path: Path) -> None:
    from bot.faq import Faq
    from bot.faq_admin import FaqAdmin

    folder = tmp_path / "faq"
    folder.mkdir()
    write(folder, "faq.yaml", GOOD)
    installed: list[Faq] = []

    def install(faq: Faq) -> None:  # the bot's index refuses the second version
        if installed:
            raise MemoryError("no room for the index")
        installed.append(faq)

    first = load_faq(folder)
    admin = FaqAdmin(path=folder, history_dir=tmp_path / "history", faq=first,
                     install=install)
    install(first)
    write(folder, "faq.yaml", GOOD.replace("At the Tirana court.", "At the court."))
    outcome = admin.reload_if_changed()
    assert outcome is not None and not outcome.ok
    assert "could not put this FAQ in use" in str(outcome.problems[0])
    assert admin.faq is first  # what the admins' next changes are compared with
    assert admin.reload_if_changed() is None  # told once, not at every look


def test_an_uploaded_yml_file_replaces_the_file_it_was_exported_from(tmp_path: Path) -> None:
    from bot.faq_admin import FaqAdmin

    folder = tmp_path / "faq"
    folder.mkdir()
    write(folder, "grants.yml", GOOD)
    installed = []
    admin = FaqAdmin(path=folder, history_dir=tmp_path / "history", faq=load_faq(folder),
                     install=installed.append)
    edited = GOOD.replace("At the Tirana court.", "At the court in Tirana.")
    upload, outcome = admin.check_upload("grants.yml", edited.encode())
    assert upload is not None and outcome.ok and upload.replaces, outcome.problems
    done = admin.confirm(upload.token)
    assert done is not None and done.ok
    assert sorted(p.name for p in folder.iterdir()) == ["grants.yml"]
    assert installed[-1].get("ngo-registration").answer_in("en") == "At the court in Tirana."


def test_a_suggested_phrasing_is_written_as_the_text_it_is(tmp_path: Path) -> None:
    """A person's "no" or "2024" (YAML 1.1 reads them as false and a number) and a
    bidirectional control (the check refuses it) would make the file invalid."""
    from bot.faq_admin import FaqAdmin

    folder = tmp_path / "faq"
    folder.mkdir()
    write(folder, "registration.yaml", GOOD)
    admin = FaqAdmin(path=folder, history_dir=tmp_path / "history", faq=load_faq(folder),
                     install=lambda faq: None)
    for question in ("no", "2024", "\u202eyes", "Note: a court"):
        assert admin.add_phrasing("ngo-registration", "en", question).ok
    assert load_faq(folder).get("ngo-registration").questions["en"] == (
        "How do I register an NGO?", "no", "2024", "yes", "Note: a court")


def test_a_file_ending_in_capitals_is_read_with_the_others(tmp_path: Path) -> None:
    write(tmp_path, "registration.yaml", GOOD)
    write(tmp_path, "Extra.YML", entry("questions:\n  en: [Why]\n"))
    assert any(p.startswith(f"{tmp_path / 'Extra.YML'}:3: entry 'ngo-x': missing 'answer'")
               for p in problems_of(tmp_path))


def test_the_example_of_the_faq_readme_loads(tmp_path: Path) -> None:
    """Its comments after an id and a category are comments; no text is cut by them."""
    readme = (Path(__file__).resolve().parents[1] / "faq" / "README.md").read_text(
        encoding="utf-8")
    example = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert "# " in example
    [item] = load_faq(write(tmp_path, "example.yaml", example)).entries
    assert item.id and item.answers
