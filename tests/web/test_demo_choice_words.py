"""A demo form's choices read as words: a Chinese reader sees no option id (a value such
as ``all_linear``, ``both_random`` or ``llama-2-7b``) on the form, neither as the text of
an option nor inside a field's help text."""

from __future__ import annotations

import re

import pytest

from app.demos import registry
from tests.web.conftest import MakeClient, soup

# Values that are words a reader knows as they are: numbers (block sizes, GPU sizes) and
# number formats (bf16, fp32, ...). The device field's cpu/gpu is the interface's own.
READABLE_AS_IS = re.compile(r"^(\d+|bf16|fp16|fp32|fp8|cpu|gpu)$")
# An option id written as code: snake_case or a lower-case name with a hyphen.
CODE_LIKE = re.compile(r"[a-z0-9]_[a-z0-9]|[a-z]-[a-z0-9]")


@pytest.mark.parametrize("demo", sorted(registry()))
def test_no_option_id_shows_on_the_chinese_form(make_client: MakeClient, demo: str) -> None:
    client = make_client(language="zh-CN", seed=False)
    page = soup(client.get(f"/demos/{demo}"))
    options = page.select("main form select option")
    raw = [
        o["value"]
        for o in options
        if o.get_text(strip=True) == o["value"] and not READABLE_AS_IS.match(str(o["value"]))
    ]
    assert raw == [], f"{demo}: options shown as their ids: {raw}"
    helps = " ".join(h.get_text(" ", strip=True) for h in page.select("main form .help"))
    ids = {str(o["value"]) for o in options if CODE_LIKE.search(str(o["value"]))}
    assert [v for v in sorted(ids) if v in helps] == [], f"{demo}: help text names option ids"
