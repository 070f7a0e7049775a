"""Tests for config/playbook.py and the default playbook TOML."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from config.playbook import (
    CASES,
    DEFAULT_PATH,
    LocalizedText,
    PlaybookError,
    Step,
    default_playbook,
    load_playbook,
    load_playbook_text,
)

WHITE_PAPER = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "white-paper-end-of-mission-and-bench.md"
DEFAULT_TEXT = DEFAULT_PATH.read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str) -> Path:
    """Write a playbook copy and return its path."""
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _replace_once(old: str, new: str) -> str:
    """The default TOML with one occurrence of `old` replaced (which must exist)."""
    assert old in DEFAULT_TEXT, old
    return DEFAULT_TEXT.replace(old, new, 1)


def _valid_step(**changes) -> dict:
    """A minimal valid step dict."""
    step = {
        "id": "natural.custom",
        "cases": ["natural"],
        "kind": "task",
        "assignee": "hr",
        "offset": {"days": -3},
        "title": {"fr": "Tâche maison pour {consultant}", "en": "In-house task for {consultant}"},
        "text": {"fr": "Faire la chose.", "en": "Do the thing."},
    }
    step.update(changes)
    return step


# ------------------------------------------------------------------ the default playbook


def test_default_playbook_loads_and_is_cached():
    pb = default_playbook()
    assert pb is default_playbook()
    assert pb.ids() == load_playbook().ids()
    assert len(pb.steps) >= 24 + 8


@pytest.mark.parametrize("case", CASES)
def test_each_case_has_eight_enabled_end_of_mission_steps(case):
    steps = default_playbook().steps_for(case)
    assert len(steps) == 8
    assert all(s.id.startswith(f"{case}.") and s.cases == [case] and s.enabled for s in steps)
    assert not any(s.kind == "bench" or s.recurrence for s in steps)


def test_every_step_id_is_prefixed_by_its_case_or_bench():
    for step in default_playbook().steps:
        prefix = step.id.split(".")[0]
        assert prefix in (*CASES, "bench")
        assert (prefix == "bench") == (step.kind == "bench")


def test_every_step_has_french_and_english_title_and_text():
    for step in default_playbook().steps:
        for lt in (step.title, step.text):
            assert lt.fr.strip() and lt.en.strip(), step.id
            assert lt.fr != lt.en, step.id
        assert len(step.title.fr) <= 120 and len(step.title.en) <= 120, step.id


def test_natural_case_content_and_timing():
    pb = default_playbook()
    sat = pb.step("natural.satisfaction")
    assert sat.kind == "survey" and -10 <= sat.offset.days < 0 and sat.offset.anchor == "end"
    notice = pb.step("natural.availability")
    assert notice.offset.days <= -25 and notice.offset.unit == "business"
    assert pb.step("natural.prospect").assignee == "business_engineer"
    assert pb.step("natural.handover").assignee == "consultant"
    assert pb.step("natural.rapport_etonnement").assignee == "consultant"
    assert all(s.offset.anchor == "end" for s in pb.steps_for("natural"))


def test_early_end_cases_start_from_the_notice_day():
    pb = default_playbook()
    for step_id in ("client.understand_reason", "client.restaff", "consultant.transparency",
                    "consultant.mobilize_business_engineers"):
        step = pb.step(step_id)
        assert step.offset.anchor == "notice" and step.offset.days in (0, 1)
    assert pb.step("client.restaff").priority == "high"
    assert pb.step("client.restaff").assignee == "business_engineer"
    assert pb.step("consultant.mobilize_business_engineers").priority == "high"
    assert pb.step("client.keep_in_touch").offset.days > 0
    assert pb.step("consultant.relationship_survey").kind == "survey"
    assert pb.step("consultant.relationship_survey").assignee == "client_contact"
    assert pb.step("consultant.prevention").offset.days > 0


@pytest.mark.parametrize("case", CASES)
def test_bench_menu_covers_the_white_paper_solutions(case):
    bench = {s.id: s for s in default_playbook().bench_steps(case)}
    for needed in ("bench.internal_project", "bench.training", "bench.skills_volunteering",
                   "bench.volunteering_followup", "bench.cv_update", "bench.linkedin",
                   "bench.ambassadors", "bench.platforms", "bench.self_review", "bench.checkin"):
        assert needed in bench
    assert all(s.kind == "bench" and s.offset.anchor == "bench" for s in bench.values())
    assert all(sorted(s.cases) == sorted(CASES) for s in bench.values())
    checkin = bench["bench.checkin"]
    assert checkin.recurrence is not None and checkin.recurrence.every_days == 7
    assert checkin.assignee == "manager"
    assert [s.id for s in bench.values() if s.recurrence] == ["bench.checkin"]


def test_bench_texts_surface_key_figures():
    pb = default_playbook()
    training = pb.step("bench.training").text.get("en").lower()
    assert "internal" in training and "external" in training and "e-learning" in training
    volunteering = pb.step("bench.skills_volunteering").text
    for lang in ("fr", "en"):
        assert "60 %" in volunteering.get(lang) and "200" in volunteering.get(lang) and "350" in volunteering.get(lang)
    checkin = pb.step("bench.checkin").text
    assert "10" in checkin.fr and "15 %" in checkin.fr and "5" in checkin.fr
    assert "10-15 %" in checkin.en and "5 consultants" in checkin.en
    followup = pb.step("bench.volunteering_followup").text.get("en")
    assert "buddy" in followup and "HR" in followup


def test_titles_render_placeholders():
    step = default_playbook().step("natural.availability")
    out = step.title.render("en", {"consultant": "Alice Martin", "end_date": "2025-06-30"})
    assert out == "Announce Alice Martin's availability on 2025-06-30"
    assert "{consultant}" in step.title.render("fr", {})


def test_localized_text_falls_back_to_french():
    lt = LocalizedText(fr="Bonjour", en="Hello")
    assert lt.get("en") == "Hello" and lt.get("en-GB") == "Hello"
    assert lt.get("fr") == "Bonjour" and lt.get("de") == "Bonjour" and lt.get("") == "Bonjour"


# ------------------------------------------------------------------ errors name file, step and field


BROKEN = [
    pytest.param('days = -15', 'days = "soon"', "step 'natural.handover': offset.days: Input should be a valid integer", id="bad-type"),
    pytest.param('id = "natural.new_needs"\ncases = ["natural"]\nkind = "task"\n', 'id = "natural.new_needs"\ncases = ["natural"]\n',
                 "step 'natural.new_needs': kind: Field required", id="missing-field"),
    pytest.param('kind = "survey"\nassignee = "manager"\n', 'kind = "survey"\nassigne = "manager"\n',
                 "step 'natural.satisfaction': assigne: Extra inputs are not permitted", id="unknown-field"),
    pytest.param('id = "natural.prospect"', 'id = "natural.availability"', "step 'natural.availability': id: duplicate step id",
                 id="duplicate-id"),
    pytest.param('anchor = "bench" }\nrecurrence', 'anchor = "end" }\nrecurrence',
                 "step 'bench.checkin': offset.anchor: a bench step must use anchor 'bench'", id="bench-without-bench-anchor"),
    pytest.param('kind = "reminder"\nassignee = "manager"\noffset = { days = -30, unit = "business", anchor = "end" }',
                 'kind = "reminder"\nassignee = "manager"\noffset = { days = -30, unit = "business", anchor = "bench" }',
                 "step 'natural.availability': kind: anchor 'bench' is only for kind 'bench'", id="bench-anchor-on-task"),
    pytest.param('kind = "reminder"\nassignee = "manager"\noffset = { days = -30, unit = "business", anchor = "end" }',
                 'kind = "reminder"\nassignee = "manager"\noffset = { days = -30, unit = "business", anchor = "notice" }',
                 "step 'natural.availability': offset.anchor: 'notice' needs cases within", id="notice-on-natural"),
    pytest.param('kind = "reminder"\nassignee = "manager"\n', 'kind = "reminder"\nassignee = "manager"\nrecurrence = { every_days = 3 }\n',
                 "step 'natural.availability': recurrence: only bench steps may recur", id="recurrence-on-task"),
    pytest.param('assignee = "hr"', 'assignee = "ceo"', "step 'bench.training': assignee: Input should be", id="bad-role"),
    pytest.param('unit = "business", anchor = "notice"', 'unit = "weeks", anchor = "notice"',
                 "step 'client.understand_reason': offset.unit: Input should be 'business' or 'calendar'", id="bad-unit"),
    pytest.param('title = { fr = "Annoncer la disponibilité de {consultant}', 'title = { fr = "Annoncer la disponibilité de {consultnat}',
                 "step 'natural.availability': title.fr: unknown placeholder {consultnat}", id="bad-placeholder"),
    pytest.param('en = "Announce {consultant}\'s availability on {end_date}" }', 'en = "" }',
                 "step 'natural.availability': title.en: String should have at least 1 character", id="empty-english"),
    pytest.param('id = "natural.availability"\n', 'id = "Natural Availability"\n',
                 "step 'Natural Availability': id: String should match pattern", id="bad-id"),
    pytest.param('id = "natural.prospect"\n', '', "steps[1]: id: Field required", id="missing-id-uses-index"),
    pytest.param('cases = ["natural"]', 'cases = []', "step 'natural.availability': cases: List should have at least 1 item",
                 id="empty-cases"),
]


@pytest.mark.parametrize("old,new,expected", BROKEN)
def test_broken_copy_reports_file_step_and_field(tmp_path, old, new, expected):
    path = _write(tmp_path, _replace_once(old, new))
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    message = str(info.value)
    assert f"{path}: {expected}" in message, message
    assert all(line.startswith(f"{path}: ") for line in message.splitlines())


def test_several_problems_are_reported_one_per_line(tmp_path):
    text = _replace_once("days = -15", 'days = "x"').replace('assignee = "hr"', 'assignee = "ceo"', 1)
    with pytest.raises(PlaybookError) as info:
        load_playbook(_write(tmp_path, text))
    assert len(info.value.problems) == 2
    assert len(str(info.value).splitlines()) == 2


def test_toml_syntax_error_names_file_line_and_column(tmp_path):
    text = _replace_once('[[steps]]\nid = "natural.prospect"', '[[steps]\nid = "natural.prospect"')
    bad_line = text.splitlines().index("[[steps]") + 1
    path = _write(tmp_path, text)
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    assert re.match(rf"^{re.escape(str(path))}: line {bad_line}, column \d+: ", str(info.value)), str(info.value)


def test_missing_file_is_a_playbook_error(tmp_path):
    with pytest.raises(PlaybookError, match="nope.toml: cannot read"):
        load_playbook(tmp_path / "nope.toml")


def test_load_playbook_text_uses_given_source():
    with pytest.raises(PlaybookError, match=r"^admin-upload: steps: Field required"):
        load_playbook_text("", "admin-upload")
    assert load_playbook_text(DEFAULT_TEXT, "admin-upload").ids() == default_playbook().ids()


def test_step_model_rejects_rule_violations_directly():
    with pytest.raises(ValidationError, match="only bench steps may recur"):
        Step.model_validate(_valid_step(recurrence={"every_days": 7}))
    with pytest.raises(ValidationError, match="'notice' needs cases"):
        Step.model_validate(_valid_step(cases=["natural", "client"], offset={"days": 0, "anchor": "notice"}))
    ok = Step.model_validate(_valid_step(cases=["client", "consultant"], offset={"days": 0, "anchor": "notice"}))
    assert ok.offset.unit == "business"


# ------------------------------------------------------------------ tenant overrides


def test_overrides_disable_retime_reword_and_add():
    overrides = {
        "steps": {
            "natural.recommendations": {"enabled": False},
            "natural.availability": {"offset": {"days": -40}},
            "natural.handover": {"title": {"fr": "Passation de {mission}"}, "priority": "high"},
        },
        "add": [_valid_step()],
    }
    pb = load_playbook(overrides=overrides)
    natural = {s.id: s for s in pb.steps_for("natural")}
    assert "natural.recommendations" not in natural and "natural.custom" in natural
    assert len(natural) == 8
    availability = natural["natural.availability"]
    assert availability.offset.days == -40
    assert availability.offset.unit == "business" and availability.offset.anchor == "end"  # deep merge keeps the rest
    handover = natural["natural.handover"]
    assert handover.title.fr == "Passation de {mission}" and handover.priority == "high"
    assert handover.title.en == default_playbook().step("natural.handover").title.en
    assert pb.step("natural.recommendations").enabled is False
    assert default_playbook().step("natural.availability").offset.days == -30  # defaults untouched


def test_override_none_removes_an_optional_field():
    pb = load_playbook(overrides={"steps": {"bench.checkin": {"recurrence": None}}})
    assert pb.step("bench.checkin").recurrence is None
    assert default_playbook().step("bench.checkin").recurrence is not None


def test_override_on_unknown_step_fails_clearly():
    with pytest.raises(PlaybookError) as info:
        load_playbook(overrides={"steps": {"natural.does_not_exist": {"enabled": False}}})
    assert str(info.value) == (
        "overrides: step 'natural.does_not_exist': unknown step id (not in config/playbooks/default.toml)"
    )


def test_override_structure_errors():
    with pytest.raises(PlaybookError) as info:
        load_playbook(overrides={"step": {}, "steps": {"natural.handover": 3}, "add": {}})
    lines = str(info.value).splitlines()
    assert "overrides: step: unknown key (expected 'steps' or 'add')" in lines
    assert "overrides: step 'natural.handover': the override must be a table of fields" in lines
    assert "overrides: add: must be a list of steps" in lines
    with pytest.raises(PlaybookError, match="cannot rename"):
        load_playbook(overrides={"steps": {"natural.handover": {"id": "natural.other"}}})


def test_invalid_override_values_name_overrides_as_source():
    with pytest.raises(PlaybookError) as info:
        load_playbook(overrides={"steps": {"natural.handover": {"offset": {"days": "x"}}}})
    assert str(info.value) == "overrides: step 'natural.handover': offset.days: Input should be a valid integer"


def test_invalid_added_steps_name_overrides_as_source():
    bad = _valid_step(kind="bench")
    nameless = _valid_step()
    del nameless["id"]
    with pytest.raises(PlaybookError) as info:
        load_playbook(overrides={"add": [bad, nameless]})
    lines = str(info.value).splitlines()
    assert "overrides: step 'natural.custom': offset.anchor: a bench step must use anchor 'bench' (got 'end')" in lines
    assert "overrides: add[1]: id: Field required" in lines


def test_added_step_cannot_reuse_an_id():
    with pytest.raises(PlaybookError, match=r"^overrides: step 'natural.review': id: duplicate step id"):
        load_playbook(overrides={"add": [_valid_step(id="natural.review")]})


def test_overrides_from_a_tenant_toml(tmp_path):
    import tomllib

    tenant = tomllib.loads(
        '[steps."client.keep_in_touch"]\noffset = { days = 40, unit = "calendar" }\n'
        '[steps."bench.checkin"]\nrecurrence = { every_days = 14, max_occurrences = 6 }\n'
    )
    pb = load_playbook(overrides=tenant)
    assert pb.step("client.keep_in_touch").offset.unit == "calendar"
    assert pb.step("bench.checkin").recurrence.max_occurrences == 6


# ------------------------------------------------------------------ own words only


def _normalise(text: str) -> str:
    """Lower-case, straight apostrophes, no markdown emphasis, single spaces."""
    text = text.replace("’", "'").replace("\\\n", " ")
    text = re.sub(r"[*_#○]+", " ", text)
    return re.sub(r"\s+", " ", text).strip().lower()


def _white_paper_sentences(min_words: int = 8) -> list[str]:
    """French sentences of the white paper with at least `min_words` words."""
    raw = WHITE_PAPER.read_text(encoding="utf-8")
    chunks = re.split(r"(?<=[.!?])\s+|\n\s*\n|\n\s*[-+]\s", raw)
    sentences = [_normalise(c).strip(" +-.!?:") for c in chunks]
    return [s for s in sentences if len(s.split()) >= min_words]


def _playbook_corpus() -> str:
    """The default TOML as written plus every parsed title and text, normalised."""
    parsed = " | ".join(t.get(lang) for s in default_playbook().steps for t in (s.title, s.text) for lang in ("fr", "en"))
    return _normalise(DEFAULT_TEXT) + " || " + _normalise(parsed)


@pytest.mark.skipif(not WHITE_PAPER.exists(), reason="white paper reference not available")
def test_no_white_paper_sentence_is_copied():
    sentences = _white_paper_sentences()
    assert len(sentences) > 50
    corpus = _playbook_corpus()
    copied = [s for s in sentences if s in corpus]
    assert copied == []


@pytest.mark.skipif(not WHITE_PAPER.exists(), reason="white paper reference not available")
def test_no_eight_word_run_of_the_white_paper_is_copied():
    def words(text: str) -> list[str]:
        return re.findall(r"[\w'%€-]+", _normalise(text))

    paper = words(WHITE_PAPER.read_text(encoding="utf-8"))
    runs = {tuple(paper[i:i + 8]) for i in range(len(paper) - 7)}
    mine = words(_playbook_corpus())
    shared = [" ".join(mine[i:i + 8]) for i in range(len(mine) - 7) if tuple(mine[i:i + 8]) in runs]
    assert shared == []


def test_french_texts_elide_de_and_que_before_a_vowel_but_not_english_ones():
    from config.playbook import LocalizedText

    text = LocalizedText(fr="Le projet de {client}, lancé pour {client}, alors que {consultant} part.",
                         en="The project of {client}.")
    assert text.render("fr", {"client": "Acme Industrie", "consultant": "Éric"}) == \
        "Le projet d'Acme Industrie, lancé pour Acme Industrie, alors qu'Éric part."
    assert text.render("fr", {"client": "Boond SA", "consultant": "Jean"}) == \
        "Le projet de Boond SA, lancé pour Boond SA, alors que Jean part."
    assert text.render("en", {"client": "Acme"}) == "The project of Acme."
