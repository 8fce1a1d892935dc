"""Share-price moves in a Chinese market report: "美股大型科技股盘前普涨，截至发稿，英特尔、
特斯拉涨超1%，谷歌涨0.79%", "热门中概股多数下跌，百度跌超12%", "亚马逊（AMZN） 涨15.32%".

36Kr posts such a report several times a day; each names a dozen companies by their
price alone, so /company nvidia listed every market close. The classifier leaves out a
company named only so (as one named only in a photo credit); the story still counts it.
"""
from __future__ import annotations

import re

# A clause that is only a list of names ("A、B、C", each with an optional ticker) and a
# move: rose, fell, limit up, by a figure or "slightly". It must end at a clause's end:
# "DeepSeek涨价" (raises prices) and "英伟达涨幅居前" are not quotes; nor is a price rise
# ("显卡8月起涨30%", "价格将涨50%").
_NAME = r"[^\s，,；;。：:、（）()]{1,14}?(?:\s?[（(][A-Z][A-Z0-9.]{0,9}[）)])?"
_MOVE = (r"\s?(?:绩后|盘中|盘前|盘后|午后|尾盘)?(?:大幅|小幅|一度|均|集体)?"
         r"(?<![起将再价费])(?:上涨|下跌|收涨|收跌|走高|走低|涨停|跌停|涨|跌)(?:超|逾|近|约)?\s?(?:\d+(?:\.\d+)?%)?")
# A move followed by its reason ("涨5%，因公司发布新一代大模型", "，此前公司宣布...") is
# the company's news, not a quote.
_REASON = r"[，,；;。]\s?(?:因|由于|此前|受|消息面|得益于|源于|缘于|系因|据悉)"
_QUOTE = re.compile(r"(?:^|(?<=[\s，,；;。：:]))" + _NAME + r"(?:、" + _NAME + r")*" + _MOVE
                    + r"(?=$|[\s，,；;。）)])(?!" + _REASON + ")")
_MOVE_CHARS = ("涨", "跌")   # the quick test: most stories quote no price


def share_moves(text: str) -> list[str]:
    """The clauses of `text` that only quote share prices."""
    if not any(c in text for c in _MOVE_CHARS):
        return []
    return _QUOTE.findall(text)
