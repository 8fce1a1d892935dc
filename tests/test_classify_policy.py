"""The adjudicated policy's categories, session by session (feeds/policy.md,
docs/history/classifier-journal.md): each sentence gets the policy's verdict and names
the phrase, cue or gate that decided it."""
from __future__ import annotations

import pytest

from tests.classify_kit import assert_verdict, classifier


clf = pytest.fixture(classifier, name="clf", scope="module")


# The adjudicated policy's categories (docs/history/classifier-journal.md, "Vocabulary for
# the adjudicated policy"): each sentence must get the verdict the policy gives and name the phrase for it.
ADJUDICATED = ([
    ("OpenAI unveils GPT-4 Turbo, its most capable model yet",
     "The new model reads longer prompts and is generally available to developers.",
     True, "term:gpt-4 turbo"),
    ("Hands-on with Gemini Ultra, Google's new model",
     "Google's flagship model is now available to everyone who subscribes to Gemini Advanced.",
     True, "term:gemini ultra"),
    ("Everything OpenAI announced at DevDay",
     "At its first developer conference OpenAI launched custom GPTs and a GPT Store.",
     True, "term:devday"),
    ("OpenAI开发者大会发布新一代模型", "OpenAI在发布会上推出新模型并降价。", True, "term:开发者大会"),
    ("OpenAI pauses ChatGPT Plus sign-ups as demand surges",
     "New subscribers join a waitlist while the company adds capacity.",
     True, "term:sign-ups"),
    ("Intel's Meteor Lake chips add a neural processing unit",
     "The Core Ultra processors run AI models on the NPU instead of the GPU.",
     True, "term:neural processing unit"),
    ("英特尔发布AI电脑芯片，内置神经网络处理器", "新芯片可在端侧AI运行大模型。", True, "term:ai电脑"),
    ("Meta's AI lab open-sources a research model that links six kinds of data",
     "The research project is a proof of concept, not a product.",
     False, "negative:research model"),
    ("Op-ed: the AI market is a bubble, and the hype will fade",
     "In this op-ed, a columnist argues that valuations of AI startups cannot last.",
     False, "negative:op-ed"),
], ["launch", "launch-hands-on", "launch-event", "launch-event-zh", "paid-tier", "npu-chip",
    "npu-chip-zh", "research-model", "opinion"])


# The categories of 2024-25 news the fourth session's vocabulary was written for: each
# sentence (our own words) gets the policy's verdict and names the phrase that decided it.
NEWS_2024_25 = ([
    ("Nvidia's Blackwell chips are sold out for the next year",
     "Cloud providers have ordered the B200 and GB200 systems through next year.", True, "ai:Blackwell"),
    ("Smugglers keep Nvidia chips flowing to China",
     "Traders route the most advanced chips around US export controls.", True, "term:nvidia chips"),
    ("Nvidia's new GeForce graphics cards are cheaper and faster",
     "The RTX 4070 Super targets gamers who want higher frame rates.", False, "negative:gamers"),
    ("Google unveils Veo, a video generator to rival Sora",
     "The model makes minute-long clips from a text prompt.", True, "term:veo"),
    ("OpenAI signs a content deal with a newspaper group",
     "The licensing agreement lets ChatGPT quote the publisher's articles.", True, "term:content deal"),
    ("Meta's profits double as its AI spending climbs",
     "The company raised its capital expenditure forecast for data centres.", True, "term:ai spending"),
    ("Meta will label AI-manipulated videos under new rules",
     "The platform's policy now requires a label on realistic synthetic media.", True, "term:ai-manipulated"),
    ("Survey finds most managers plan to buy AI tools this year",
     "Respondents said productivity was their main reason.", False, "negative:survey finds"),
    ("Get a lifetime licence to an AI writing app with this deal",
     "The app drafts emails and posts for a one-time price.", False, "negative:with this deal"),
    ("AI video throwdown: three generators put to the test",
     "We gave the same prompts to each tool and compared the clips.", False, "negative:throwdown"),
], ["ai-chip-by-name", "chip-export-controls", "gaming-gpu", "launch-by-name", "content-deal",
    "earnings-capex", "platform-ai-content-rule", "survey", "lifetime-deal", "hands-on-comparison"])


@pytest.mark.parametrize("title, text, strategy, why", [
    ("Thinking Machines raises $2 billion seed round",
     "The startup founded by former lab executives is valued at $10 billion.", True,
     "ai-company:Thinking Machines Lab"),
    ("Runway signs deal with film studio to train video models",
     "The studio will provide its library of films.", True, "ai-company:Runway"),
    ("State passes AI law requiring chatbot safeguards for minors",
     "The governor signed the bill on Monday after months of debate.", True, "term:ai law"),
    ("Regulator fines telecom over deepfake robocalls",
     "The calls imitated a candidate's voice days before the primary.", True, "ai:deepfake"),
    ("How to spot a deepfake: 5 tips", "Look closely at the hands and the lighting.", False,
     "negative:how to"),
    ("Animal shelter promises humane treatment for all its dogs",
     "Volunteers say thinking machines cannot replace their care.", False, "gate:not about AI"),
], ids=["ai-native-lab-funding", "ai-native-company-deal", "state-ai-law", "deepfake-is-ai",
        "deepfake-how-to", "ordinary-words-are-no-companies"])
def test_2025_categories_score_as_the_policy_says(clf, title, text, strategy, why):
    c = clf.classify(title, text)
    assert_verdict(c, strategy, why)
    if not strategy:
        assert c.companies == ()


def test_shipped_model_lists_the_headline_words_that_counted(clf):
    """The shipped model weighs headline words (fifth session); a word that moved the
    verdict is named in the reasons with its weight, after the features."""
    c = clf.classify("Runway signs deal with film studio to train video models",
                     "The studio will provide its library of films.")
    words = [r for r in c.reasons if r.startswith("word:")]
    assert words and all(float(r.rsplit(" ", 1)[1]) != 0 for r in words)
    assert c.reasons.index(words[0]) > max(i for i, r in enumerate(c.reasons) if r.startswith("feature:"))


# The 2025 categories added with it: chatbots as regulated products, a lab's launch told as
# what its new agent can do (both strategy), and a chatbot's controversies (not strategy).
CHATBOTS_2025 = ([
    ("Regulator opens an inquiry into AI chatbots and child safety",
     "The agency asked seven companies how they test their chatbots for harm to minors.",
     True, "term:inquiry"),
    ("OpenAI's new agent can book trips and fill in forms for you",
     "The agent mode is rolling out to paying subscribers first.", True, "term:new agent"),
    ("xAI's Grok chatbot draws backlash after offensive posts",
     "The company said it removed the posts and changed the chatbot's instructions.",
     False, "feature:cue:incident@title"),
], ["chatbot-inquiry", "agent-launch", "chatbot-incident"])


# The eighth session's cue groups for the 2026 adjudication's policy lines (our own
# made-up headlines): a call, proposal or letter is not an act, an introduced bill is;
# usage claims, robotics, tests inside a company. Each headline fires its cue.
@pytest.mark.parametrize("title, text, cue", [
    ("OpenAI urges governments to tax robots", "", "cue:statement@title"),
    ("AI lab CEO calls for a global pause on superintelligence", "", "cue:statement@title"),
    ("Senator proposes a wishlist of AI safety rules", "", "cue:statement@title"),
    ("Chatbot maker says 800 million people use its assistant every week", "", "cue:usage@title"),
    ("Humanoid robot start-up shows off its AI warehouse robots", "", "cue:robotics@title"),
    ("Search giant tests its new AI assistant internally with staff", "", "cue:internal@title"),
    ("Rogue AI agent hacked a hospital's network", "", "cue:incident@title"),
])
def test_2026_policy_cues_fire(clf, title, text, cue):
    x, about_ai = clf.features(title, text)
    assert about_ai and x.get(cue, 0) > 0, x


LINES_2026 = ([
    ("Senator introduces bill to ban AI toys",
     "The legislation would bar chatbots in toys sold to children.", True, "term:introduces bill"),
    ("Chatbot maker says 800 million people use its assistant every week",
     "The figure comes from the company's own usage data.", False, "verdict:not strategy"),
    ("Nvidia acquires an AI software start-up for $700 million",
     "The deal brings the company's inference tools in-house.", True, "verdict:strategy"),
], ["introduced-bill-is-an-act", "usage-claim", "acquisition-keeps-its-cues"])
# Not here: "OpenAI urges governments to tax robots" is still posted (p 0.85; the statement
# cue learns little from the older sets), a known limit in docs/classifier.md.


SESSIONS = [ADJUDICATED, NEWS_2024_25, CHATBOTS_2025, LINES_2026]


@pytest.mark.parametrize("title, text, strategy, why", [c for cases, _ in SESSIONS for c in cases],
                         ids=[i for _, ids in SESSIONS for i in ids])
def test_policy_categories_score_as_the_policy_says(clf, title, text, strategy, why):
    """Each session's sentences (a table a session, above) get the policy's verdict and
    name the phrase, cue or gate that decided it."""
    assert_verdict(clf.classify(title, text), strategy, why)
