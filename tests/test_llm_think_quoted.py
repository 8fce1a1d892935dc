"""Review: a brief that quotes a closing </think> tag (a story about DeepSeek-R1's output
format) loses everything before the tag and is rejected "answer is not JSON"; it parsed
before llmfix's lone-</think> rule (feeds/llm_reply.py _without_thinking)."""
import json

from feeds.llm_reply import parse_json

ANSWER = {"headline": "DeepSeek-R1 update hides its reasoning",
          "bullets": ["The model now ends its reasoning with a </think> tag before answering.",
                      "Developers must strip the block.", "The change ships this week."],
          "why_it_matters": "Apps parsing R1's output must be updated."}


def test_a_quoted_closing_tag_in_the_answer_is_kept():
    assert parse_json(json.dumps(ANSWER)) == ANSWER


def test_a_quoted_closing_tag_after_a_real_think_block_is_kept():
    assert parse_json("<think>let me see</think>" + json.dumps(ANSWER)) == ANSWER
