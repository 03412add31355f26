"""Every locale has every message of the reference locale, with the same placeholders."""

import re
from pathlib import Path

import pytest
from fluent.syntax import FluentParser, ast

from bot.i18n import LOCALES_DIR, Locales


def messages(lang: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for ftl in sorted((LOCALES_DIR / lang).glob("*.ftl")):
        resource = FluentParser().parse(ftl.read_text(encoding="utf-8"))
        for entry in resource.body:
            assert not isinstance(entry, ast.Junk), f"{ftl.name}: syntax error near {entry.content[:60]!r}"
            if isinstance(entry, ast.Message):
                source = ftl.read_text(encoding="utf-8")[entry.span.start : entry.span.end]
                found[entry.id.name] = set(re.findall(r"\$([a-z_-]+)", source))
    return found


LANGUAGES = sorted(p.name for p in Path(LOCALES_DIR).iterdir() if p.is_dir())


def test_required_languages_present() -> None:
    assert {"en", "ru", "zh-Hans"} <= set(LANGUAGES)


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_locale_matches_reference(lang: str) -> None:
    reference, other = messages("en"), messages(lang)
    assert sorted(set(reference) - set(other)) == [], f"{lang} lacks messages"
    assert sorted(set(other) - set(reference)) == [], f"{lang} has messages en does not"
    differing = {k: (reference[k], other[k]) for k in reference if reference[k] != other[k]}
    assert differing == {}, f"{lang} placeholders differ"


def test_language_resolution() -> None:
    locales = Locales()
    assert locales.resolve("ru") == "ru"
    assert locales.resolve("zh-hans") == "zh-Hans"
    assert locales.resolve("zh-TW") == "zh-Hans"
    assert locales.resolve("pt-br") == "en"
    assert locales.resolve(None) == "en"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_plural_forms_render(lang: str) -> None:
    t = Locales().translator(lang)
    for n in (1, 2, 5, 21):
        text = t("status-queued-position", position=n)
        assert str(n) in text or n == 1, text
