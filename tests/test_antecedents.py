"""Opening references ("It said", "He added", "The company, which") resolved only when
one name is certain. Made-up companies and people throughout."""
from __future__ import annotations

import pytest

from feeds.antecedents import resolve
from feeds.people import people
from feeds.references import opening

CO = ("Zephyra", "Quorra")
LEAD = "Zephyra said on Monday that it would halve the price of its flagship model."
WU = "Zephyra chief executive Mara Velden said the cuts would be paid for by cloud revenue."


@pytest.mark.parametrize("before, text, expected", [
    ((LEAD,), "It also plans to open two data centres in Jakarta.",
     "Zephyra also plans to open two data centres in Jakarta."),
    ((LEAD,), "It said demand for the model had tripled.", "Zephyra said demand for the model had tripled."),
    ((LEAD,), "The company, which has 900 staff, declined to comment.",
     "Zephyra, which has 900 staff, declined to comment."),
    ((LEAD,), "Its shares rose 4% in Hong Kong.", "Zephyra's shares rose 4% in Hong Kong."),
    ((LEAD,), "But it declined to give a date.", "But Zephyra declined to give a date."),
    ((LEAD,), "It’s announced two smaller models too.", "Zephyra has announced two smaller models too."),
    (("On Monday, Chinese start-up Zephyra raised $40m from investors.",), "It plans to hire 50 people.",
     "Zephyra plans to hire 50 people."),
    ((LEAD,), "The start-up, founded in 2021, employs 40 people.",
     "Zephyra, founded in 2021, employs 40 people."),
    (("Zephyra is pouring money into Quorra as part of a wider partnership.",),
     "The company is making a $2bn investment.", "Zephyra is making a $2bn investment."),
    ((WU,), "She added that prices would fall again next year.",
     "Mara Velden added that prices would fall again next year."),
    ((WU,), "His comments came a day after the launch.", "Mara Velden's comments came a day after the launch."),
    ((WU,), "He's planning a second round of cuts.", "Mara Velden is planning a second round of cuts."),
], ids=["it-also-plans", "it-said", "the-company-which", "its-shares", "but-it", "its-announced",
        "lead-in-and-descriptor", "described-subject",
        "generic-follows-subject", "she-one-person", "his-one-person", "hes-contraction"])
def test_reference_resolved_to_the_one_name(before, text, expected):
    assert resolve(text, before, CO) == expected


@pytest.mark.parametrize("before, text", [
    ((LEAD,), "It is the cheapest model on the market."),          # the model, not the company
    ((LEAD,), "It will be available in March."),
    (("Quorra said it would invest $10m in Zephyra.",), "It said the deal closes in May."),  # not the main
    (("Zephyra's new model beat rivals on three tests.",), "It said more tests would follow."),
    (("Zephyra and Quorra said they would share chips.",), "It said the deal was final."),
    (("Prices fell sharply across the sector.",), "The company said margins held."),  # no subject named
    (("Zephyra Cloud said it would cut prices.",), "It said more cuts would follow."),
    (("Mara Velden and analyst Tomas Reyk said demand was strong.",), "She said prices would fall."),
    (("Mr Tomas Reyk said demand was strong.",), "She said prices would fall."),      # title says he
    (("Analyst Tomas Reyk said her forecast was too low.",), "He said prices would fall."),  # a "her" nearby
    (("Tomas Reyk told Lumen that Orsi had resigned.",), "He said the board knew."),  # Orsi could be "he"
    (("Analyst Tomas Reyk said demand was strong.", "Ines Marlow disagreed."), "She said prices would fall."),
    (("“We spoke to him last week.",), "He has to decide soon.”"),               # inside a quotation
    (("Demand was strong, analysts said.",), "He said prices would fall."),      # nobody named
    ((LEAD,), "They also said the cuts would last."),                            # they: never resolved
    ((), "It said prices would fall."),                                          # nothing before it
    (("Zephyra has agreed to invest $2bn in a Tokyo-based model developer.",),
     "The start-up, founded in 2023, plans to build a cluster."),                # the developer
    (("Zephyra said it would buy a stake in Quorra.",), "The chipmaker said the deal closes in May."),
], ids=["it-is-product", "it-will-be", "other-company-subject", "possessive-subject", "two-companies",
        "company-unnamed", "longer-name", "two-people", "title-gender", "other-pronoun",
        "other-capitalised", "another-person-nearby", "in-quotation", "nobody-named", "they",
        "no-context", "described-other-party", "described-named-other"])
def test_uncertain_reference_is_not_substituted(before, text):
    assert resolve(text, before, CO) is None


@pytest.mark.parametrize("text", [
    "It is unclear whether the cuts will last.",
    "It remains to be seen how rivals respond.",
    "It’s been a busy year for Zephyra.",
    "This week, Zephyra cut its prices.",
    "That said, Zephyra kept its free tier.",
    "IT budgets are growing.",
    "Zephyra said it would cut prices.",
])
def test_no_dangling_reference_is_left_alone(text):
    assert opening(text) is None
    assert resolve(text, (LEAD,), CO) == text


def test_expletive_it_never_becomes_the_company():
    assert resolve("It is unclear whether Zephyra can keep its lead.", (LEAD,), CO) == \
        "It is unclear whether Zephyra can keep its lead."


@pytest.mark.parametrize("text, kind", [
    ("He added that prices would fall.", "person"), ("Her team built it.", "person"),
    ("It said prices would fall.", "company"), ("The firm declined to comment.", "company"),
    ("These updates ship in May.", "other"), ("This comes as rivals cut prices.", "other"),
    ("They also said so.", "other"), ("However, it said so.", "company"),
])
def test_opening_kinds(text, kind):
    assert opening(text).kind == kind


def test_people_maps_first_and_last_names_to_the_full_name():
    known = people([WU, "Analyst Tomas Reyk said so."], CO)
    assert known["Velden"] == known["Mara"] == "Mara Velden"
    assert known["Reyk"] == "Tomas Reyk"


def test_surname_speaker_counts_as_the_same_person():
    before = ("Analyst Tomas Reyk said demand was strong.", "Reyk said prices would fall.",
              "Analyst Tomas Reyk said the cuts were overdue.")
    assert resolve("He added that rivals would follow.", before, CO, {"Reyk": "Tomas Reyk"}) == \
        "Tomas Reyk added that rivals would follow."
