"""The gazetteer's topics (slugs, labels, synonyms) and a user's own file adding
companies, aliases, topics and negative phrases; a bad file is one line."""
from __future__ import annotations

import pytest

from feeds.classify import Classifier, GazetteerError, load_gazetteer
from feeds.models import DEFAULT_TOPICS
from tests.classify_kit import classifier


clf = pytest.fixture(classifier, name="clf", scope="module")


def test_default_topics_and_labels(clf):
    assert clf.topic_slugs() == list(DEFAULT_TOPICS)
    assert clf.topic_label("chips") == "Chips & compute"
    assert clf.topic_label("no-such-topic") == "no-such-topic"


@pytest.mark.parametrize("typed, slug", [
    ("open-source", "open-source"), ("open source", "open-source"), ("Open Source", "open-source"),
    ("m&a", "acquisitions"), ("M&A", "acquisitions"), ("export controls", "policy"),
    ("regulation", "policy"), ("Chips & compute", "chips"), ("PRICING", "pricing"),
    ("monetization", "pricing"), ("funding", "funding"), ("opensource", "open-source"),
    # Names users type that no typo or ending relates to the slug (fundraising -> funding).
    ("fundraising", "funding"), ("IPO", "funding"), ("takeover", "acquisitions"),
    ("deal", "partnerships"),
])
def test_resolve_topic_accepts_slugs_labels_synonyms(clf, typed, slug):
    assert clf.resolve_topic(typed) == slug


@pytest.mark.parametrize("typed", ["", "weather", "sports"])
def test_resolve_topic_unknown(clf, typed):
    assert clf.resolve_topic(typed) is None


# ---- user extension -------------------------------------------------------------------

USER_TOML = """
[companies."Acme Robotics"]
aliases = ["AcmeBot", "阿克米"]
ai = true

[companies.alibaba]          # an existing company, any case: adds an alias
aliases = ["Bailian"]

[topics.robotics]
label = "Robots"
terms = ["humanoid", "robot*", "机器人"]
synonyms = ["robots"]

[topics.chips]               # an existing topic: adds a phrase
terms = ["wafer"]
"""


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["utf-8", "utf-8 with BOM"])
def test_user_file_adds_companies_aliases_and_topics(tmp_path, bom):
    path = tmp_path / "mine.toml"
    path.write_bytes(bom + USER_TOML.encode("utf-8"))   # Windows editors write the BOM
    clf = Classifier(load_gazetteer(path))
    assert clf.resolve_company("acmebot") == "Acme Robotics"
    assert clf.resolve_company("Bailian") == "Alibaba"
    assert clf.resolve_topic("robots") == "robotics"
    assert clf.topic_label("robotics") == "Robots"
    assert clf.topic_slugs()[:len(DEFAULT_TOPICS)] == list(DEFAULT_TOPICS)
    c = clf.classify("AcmeBot raises $50 million to build humanoid robots",
                     "The funding round values the robotics maker at $1 billion; its AI runs on wafer-scale chips.")
    assert c.companies[0] == "Acme Robotics"
    assert "robotics" in c.topics and "funding" in c.topics
    assert any(r.startswith("term:wafer +") for r in c.reasons)
    # the bundled gazetteer is untouched by another classifier's user file
    assert Classifier().resolve_company("acmebot") is None


@pytest.mark.parametrize("content, message", [
    ("[companies.Foo\naliases = 1", "is not valid TOML"),
    ("[companies.Foo]\naliases = 'Bar'", "needs a list of non-empty strings"),
    ("[companies]\nFoo = 3", "must be a table"),
    ("[topics.x.weights]\nrobot = 'high'", "must be a number"),
    ("[negative.weights]\nsponsored = 'a lot'", "must be a number"),
    # A value of the wrong kind ended in a ValueError's or AttributeError's traceback.
    ("[topics.robots]\nweight = 'high'", "weight of topic 'robots' must be a number"),
    ("[topics.robots]\nweights = 3", "topics.robots.weights must be a table ([topics.robots.weights])"),
    ("topics = ['robots']", "topics must be a table"),
    ("companies = 3", "companies must be a table"),
    ("negative = 3", "negative must be a table"),
    ("[negative]\nweights = 3", "negative.weights must be a table"),
    # A misspelt section was ignored: the user's companies never showed up, no word why.
    ("[company.Acme]\naliases = ['AcmeBot']", "unknown section 'company'"),
    ("[Topics.robots]\nterms = ['robot']", "unknown section 'Topics'"),
])
def test_bad_user_file_is_a_one_line_error(tmp_path, content, message):
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(GazetteerError) as err:
        load_gazetteer(path)
    assert str(err.value).startswith("classify: ")
    assert message in str(err.value)


def test_user_file_adds_negative_phrases(tmp_path, clf):
    story = ("OpenAI raises $6.6 billion in new funding round",
             "Sponsored: the ChatGPT maker's investors include Microsoft.")
    assert clf.classify(*story).strategy
    path = tmp_path / "mine.toml"
    path.write_text('[negative.weights]\n"sponsored" = 10\n', encoding="utf-8")
    c = Classifier(load_gazetteer(path)).classify(*story)
    assert not c.strategy
    assert any(r.startswith("negative:sponsored -") for r in c.reasons)
    assert any(r.startswith("veto:sponsored") for r in c.reasons)   # heavy enough to decide alone


def test_missing_user_file(tmp_path):
    with pytest.raises(GazetteerError, match="cannot read"):
        load_gazetteer(tmp_path / "absent.toml")
