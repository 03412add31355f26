"""Fluent translations: one bundle per language from `locales/<lang>/*.ftl`, picked by Telegram language."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from fluent.runtime import FluentBundle, FluentResource

DEFAULT_LANGUAGE = "en"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"

# Telegram sends IETF tags such as "pt-br" or "zh-hans"; map their primary subtag to our folders.
_ALIASES = {"zh": "zh-Hans"}


class MissingMessage(KeyError):
    """A message id absent from the reference locale: a programming error, never shown to users."""


@dataclass(frozen=True, slots=True)
class Translator:
    """Formats messages of one language, falling back to English for ids that language lacks."""

    language: str
    _bundle: FluentBundle
    _fallback: FluentBundle

    def __call__(self, message_id: str, **args: str | int | float) -> str:
        for bundle in (self._bundle, self._fallback):
            if bundle.has_message(message_id):
                pattern = bundle.get_message(message_id).value
                if pattern is None:
                    break
                text, _errors = bundle.format_pattern(pattern, args)
                return str(text)
        raise MissingMessage(message_id)


class Locales:
    """All loaded languages."""

    def __init__(self, directory: Path = LOCALES_DIR) -> None:
        self._bundles: dict[str, FluentBundle] = {}
        for lang_dir in sorted(p for p in directory.iterdir() if p.is_dir()):
            bundle = FluentBundle([lang_dir.name], use_isolating=False)
            for ftl in sorted(lang_dir.glob("*.ftl")):
                bundle.add_resource(FluentResource(ftl.read_text(encoding="utf-8")))
            self._bundles[lang_dir.name] = bundle
        if DEFAULT_LANGUAGE not in self._bundles:
            raise RuntimeError(f"reference locale {DEFAULT_LANGUAGE!r} missing in {directory}")

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._bundles)

    def resolve(self, language_code: str | None) -> str:
        """Our language for a Telegram language_code (None or unknown → English)."""
        if not language_code:
            return DEFAULT_LANGUAGE
        code = language_code.lower()
        for lang in self._bundles:
            if lang.lower() == code:
                return lang
        primary = code.split("-")[0]
        lang = _ALIASES.get(primary, primary)
        return lang if lang in self._bundles else DEFAULT_LANGUAGE

    def translator(self, language: str | None) -> Translator:
        lang = self.resolve(language)
        return Translator(lang, self._bundles[lang], self._bundles[DEFAULT_LANGUAGE])

    def all_translators(self) -> Mapping[str, Translator]:
        return {lang: self.translator(lang) for lang in self._bundles}
