"""Language profiles: rag/profiles/<name>.toml read into frozen, typed vocabulary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag.core.errors import ConfigError
from rag.core.profile import PROFILES_DIR, Profile, load_profile, read_profile, words_pattern


def test_the_english_profile_loads_once_as_typed_immutable_data() -> None:
    profile = load_profile("en")
    assert isinstance(profile, Profile) and profile.name == "en"
    assert load_profile() is profile  # "en" is the default, parsed once
    assert len(profile.calendar.months) == 12 and profile.calendar.months[8] == ("September", "Sept", "Sep")
    assert profile.calendar.month_number("sept") == 9 and profile.calendar.month_number("MAY") == 5
    assert "jan" in profile.calendar.month_abbreviations and "may" not in profile.calendar.month_abbreviations
    assert isinstance(profile.conversation.referring, frozenset) and "it" in profile.conversation.referring
    assert [unit.kind for unit in profile.answers.units] == ["duration", "distance", "money", "size"]
    with pytest.raises(AttributeError):
        profile.name = "xx"  # type: ignore[misc]


def test_an_unknown_profile_is_a_one_line_config_error() -> None:
    with pytest.raises(ConfigError) as error:
        load_profile("xx")
    assert "no language profile 'xx'" in error.value.message and "en" in error.value.message
    with pytest.raises(ConfigError, match="letters, digits"):
        load_profile("../en")


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = (PROFILES_DIR / "en.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "xx.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("[sentences]", "[sentences", "invalid"),  # not TOML at all
        ('existential = "there"', "", "conversation.existential is missing"),
        ('existential = "there"', "existential = 3", "conversation.existential must be a string"),
        ('ordinal_suffixes = ["st",', 'ordinal_suffixes = "st" #', "calendar.ordinal_suffixes must be a list"),
        ("[evidence]", "[evidence]\nstop_words = []", "unknown key evidence.stop_words"),
        ('kind = "money"', "kind = 1", "answers.units[2].kind must be a string"),
        ('titles = [', 'titles = ["",', "sentences.titles holds an empty string"),
    ],
)
def test_a_malformed_profile_is_a_one_line_config_error_naming_the_file(tmp_path, old, new, says) -> None:
    path = _broken(tmp_path, old, new)
    with pytest.raises(ConfigError) as error:
        read_profile(path)
    message = str(error.value)
    assert "\n" not in message and str(path) in message
    assert says in message or (says == "invalid" and "line" in message), message


def test_words_pattern_keeps_order_and_matches_words_literally() -> None:
    pattern = words_pattern(["a.m.", "mid-", "how many"], space=r"\s+")
    assert pattern.split("|")[0] == re.escape("a.m.")
    assert re.fullmatch(pattern, "how   many") and re.fullmatch(pattern, "a.m.")
    assert not re.fullmatch(pattern, "axmx") and not re.fullmatch(pattern, "howmany")
    assert words_pattern(["leave a reply"]) == "leave a reply"
