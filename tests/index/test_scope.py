"""Naming documents: IDs, prefixes and globs; an unknown name is one line naming the closest IDs."""

from __future__ import annotations

import pytest

from rag.core.errors import DocumentError, RagError
from rag.index.scope import resolve

IDS = ["000_9c9ac89b68401338", "001_bdcb0c2d230817f0", "002_bcd94f8d70de6957", "cq002-first-genome", "cq010-prep"]


def test_ids_prefixes_and_globs_select_documents_in_id_order() -> None:
    assert resolve(["002_bcd94f8d70de6957"], IDS) == ("002_bcd94f8d70de6957",)
    assert resolve(["001", "000_9c9"], IDS) == ("000_9c9ac89b68401338", "001_bdcb0c2d230817f0")
    assert resolve(["cq0*"], IDS) == ("cq002-first-genome", "cq010-prep")
    assert resolve(["*genome", "cq002"], IDS) == ("cq002-first-genome",)  # named twice, selected once
    assert resolve([], IDS) == () and resolve(["  "], IDS) == ()


def test_an_unknown_name_is_a_one_line_400_naming_the_closest_ids() -> None:
    with pytest.raises(DocumentError, match=r"^no document 'nothing'"):  # the first is a prefix: it selects
        resolve(["000_9c9ac89b6840133", "nothing"], IDS)
    with pytest.raises(DocumentError) as caught:
        resolve(["002_bcd94f8d70de6958"], IDS)
    message = caught.value.message
    assert message.startswith("no document '002_bcd94f8d70de6958' in the index; closest: 002_bcd94f8d70de6957")
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, RagError) and caught.value.http_status == 400
    with pytest.raises(DocumentError, match=r"closest: cq010-prep"):
        resolve(["cq01-prep"], IDS)
    with pytest.raises(DocumentError, match=r"the index holds 5 documents"):
        resolve(["zzzzzzzzzzzzzzzzzzzzzzzzzzzz"], IDS)
    with pytest.raises(DocumentError, match=r"no document 'x\*'"):
        resolve(["x*"], IDS)  # a glob matching nothing is unknown too
