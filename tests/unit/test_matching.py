"""Ranking consultants for open opportunities: skills (with spelling variants), the start inside the availability
window, the place, and the reason said in words."""
from __future__ import annotations

from datetime import date

from handlers.domain.matching import Candidate, Need, rank, tokens

TODAY = date(2026, 11, 2)
ALICE = Candidate("7", "Alice", ("Java, Spring Boot, PostgreSQL, Docker", "Kubernetes"), date(2026, 12, 1),
                  places=("Paris",))


def test_the_opportunity_that_fits_comes_first_with_its_reason_in_french_and_english():
    needs = [Need("a", "Data", ("Python", "Spark", "Airflow", "AWS", "Docker"), date(2026, 12, 1), "Paris"),
             Need("b", "Back end", ("Java", "Spring boot", "Postgres", "Docker", "Kafka"), date(2026, 12, 1), "Paris"),
             Need("c", "Back end Lyon", ("Java", "Spring-Boot", "PostgreSQL", "Kafka"), date(2026, 12, 1), "Lyon")]
    found = rank([ALICE], needs, TODAY)
    assert set(found) == {"b", "c"}  # "a": 1 skill of 5, under the 40 % floor
    best, second = found["b"][0], found["c"][0]
    assert best.score > second.score
    assert best.reason("fr") == "4 compétences sur 5, disponible le 01/12, même lieu"
    assert best.reason("en") == "4 of 5 skills, free from 1 Dec, same place"
    assert second.reason("fr") == "3 compétences sur 4, disponible le 01/12, autre lieu"


def test_spelling_variants_count_and_near_names_of_other_skills_do_not():
    assert tokens(["Spring Boot; React.js / Node JS", "Éclipse"]) == {"springboot", "react", "node", "eclipse"}
    variants = rank([ALICE], [Need("v", "", ("postgres", "kubernetes", "spring-boot"), date(2026, 12, 1))], TODAY)
    assert variants["v"][0].held == 3
    other = [Need("js", "", ("JavaScript", "TypeScript"), date(2026, 12, 1))]
    assert rank([ALICE], other, TODAY) == {}


def test_the_start_must_fall_inside_the_availability_window():
    bounded = Candidate("8", "Bob", ("Java", "Docker"), date(2026, 12, 1), until=date(2027, 1, 31))
    needs = [Need("early", "", ("Java",), date(2026, 11, 10)),  # 21 days before Bob is free: the client won't wait
             Need("soon", "", ("Java",), date(2026, 11, 24)),  # a week before: fine, said in the reason
             Need("late", "", ("Java",), date(2027, 2, 1)),  # after Bob's next mission starts
             Need("now", "", ("Java",), None)]  # "immediate": today, 29 days before Bob is free
    found = rank([bounded], needs, TODAY)
    assert set(found) == {"soon"}
    assert found["soon"][0].reason("en") == "1 of 1 skills, free from 1 Dec (7 days after the start), place not said"


def test_each_consultant_goes_to_at_most_n_opportunities_their_best_ones():
    needs = [Need(str(n), "", ("Java", "Docker", "Kafka")[: 1 + n % 3], date(2026, 12, 1)) for n in range(6)]
    found = rank([ALICE], needs, TODAY, per_consultant=2)
    assert sum(len(rows) for rows in found.values()) == 2
    assert all(rows[0].held == rows[0].wanted for rows in found.values())  # the full-skill ones won


def test_someone_already_on_the_bench_is_free_now_and_the_words_do_not_move_with_the_day():
    bench = Candidate("9", "Chloé", ("Java",), date(2026, 10, 1))
    need = [Need("n", "", ("Java",), None)]
    monday, friday = rank([bench], need, TODAY)["n"][0], rank([bench], need, date(2026, 11, 6))["n"][0]
    assert monday.reason("fr") == friday.reason("fr") == "1 compétence sur 1, disponible dès maintenant, lieu non précisé"
