"""Text formatting as Telegram parses parse_mode=HTML, and the entities it derives."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from tests.fakes.telegram.limits import ERR_CANT_PARSE_ENTITIES, LEADING_COMMAND_PATTERN, ApiError
from tests.fakes.telegram.models import FormattedText, without_none

HTML_TAG_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
HTML_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _OpenTag:
    name: str
    start: int  # UTF-16 offset in the output text
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None
    expandable: bool = False


class HtmlParser:
    """Telegram's HTML subset: allowed tags only, attributes checked, `&lt;`-style escapes decoded."""

    def __init__(self, source: str) -> None:
        self._src = source
        self._pos = 0
        self._out: list[str] = []
        self._out16 = 0
        self._stack: list[_OpenTag] = []
        self._entities: list[dict[str, Any]] = []

    def parse(self) -> FormattedText:
        while self._pos < len(self._src):
            char = self._src[self._pos]
            if char == "<":
                self._take_tag()
            elif char == "&":
                self._take_escape()
            else:
                self._emit(char)
                self._pos += 1
        if self._stack:
            raise self._error(f'Can\'t find end tag corresponding to start tag "{self._stack[-1].name}"')
        self._entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
        return strip_formatted(FormattedText("".join(self._out), self._entities))

    def _emit(self, text: str) -> None:
        self._out.append(text)
        self._out16 += utf16_length(text)

    def _error(self, reason: str) -> ApiError:
        return ApiError(ERR_CANT_PARSE_ENTITIES + reason)

    def _byte_offset(self, position: int) -> int:
        return len(self._src[:position].encode())

    def _take_escape(self) -> None:
        decoded = decode_html_escape(self._src, self._pos)
        if decoded is None:  # Telegram keeps a lone "&" as it is
            self._emit("&")
            self._pos += 1
            return
        char, end = decoded
        self._emit(char)
        self._pos = end

    def _take_tag(self) -> None:
        if self._src.startswith("</", self._pos):
            self._take_end_tag()
        else:
            self._take_start_tag()

    def _take_end_tag(self) -> None:
        start = self._pos
        close = self._src.find(">", start)
        if close == -1:
            raise self._error(f"Unclosed end tag at byte offset {self._byte_offset(start)}")
        name = self._src[start + 2 : close].strip().lower()
        if not self._stack:
            raise self._error(f"Unexpected end tag at byte offset {self._byte_offset(start)}")
        opened = self._stack.pop()
        if name and name != opened.name:
            raise self._error(
                f"Unmatched end tag at byte offset {self._byte_offset(start)}, "
                f'expected "</{opened.name}>", found "</{name}>"'
            )
        self._close(opened)
        self._pos = close + 1

    def _take_start_tag(self) -> None:
        start = self._pos
        end = start + 1
        while end < len(self._src) and not self._src[end].isspace() and self._src[end] != ">":
            end += 1
        if end >= len(self._src):
            raise self._error(f"Unclosed start tag at byte offset {self._byte_offset(start)}")
        name = self._src[start + 1 : end].lower()
        if name not in HTML_TAG_ENTITY_TYPES:
            raise self._error(f'Unsupported start tag "{name}" at byte offset {self._byte_offset(start)}')
        attributes = self._read_attributes(name, end, start)
        self._stack.append(self._open(name, attributes, start))

    def _read_attributes(self, tag: str, position: int, start: int) -> dict[str, str]:
        attributes: dict[str, str] = {}
        while True:
            position = self._skip_spaces(position, start)
            if self._src[position] == ">":
                self._pos = position + 1
                return attributes
            name_end = position
            while name_end < len(self._src) and _is_attribute_char(self._src[name_end]):
                name_end += 1
            name = self._src[position:name_end].lower()
            if not name:
                offset = self._byte_offset(start)
                raise self._error(f'Empty attribute name in the tag "{tag}" at byte offset {offset}')
            position = self._skip_spaces(name_end, start)
            if self._src[position] != "=":
                if tag == "blockquote" and name == "expandable":
                    attributes[name] = ""
                    continue
                raise self._error(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                    f"at byte offset {self._byte_offset(start)}"
                )
            value, position = self._read_attribute_value(self._skip_spaces(position + 1, start), start)
            attributes[name] = value

    def _skip_spaces(self, position: int, start: int) -> int:
        while position < len(self._src) and self._src[position].isspace():
            position += 1
        if position >= len(self._src):
            raise self._error(f"Unclosed start tag at byte offset {self._byte_offset(start)}")
        return position

    def _read_attribute_value(self, position: int, start: int) -> tuple[str, int]:
        quote = self._src[position]
        if quote in "\"'":
            end = self._src.find(quote, position + 1)
            if end == -1:
                raise self._error(f"Unclosed start tag at byte offset {self._byte_offset(start)}")
            return decode_html_escapes(self._src[position + 1 : end]), end + 1
        end = position
        while end < len(self._src) and (self._src[end].isalnum() or self._src[end] in ".-"):
            end += 1
        if end == position:
            raise self._error(f"Expected quote at byte offset {self._byte_offset(position)}")
        return self._src[position:end], end

    def _open(self, name: str, attributes: dict[str, str], start: int) -> _OpenTag:
        tag = _OpenTag(name=name, start=self._out16)
        if name == "span" and attributes.get("class") != "tg-spoiler":
            offset = self._byte_offset(start)
            raise self._error(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        if name == "tg-emoji":
            tag.custom_emoji_id = attributes.get("emoji-id", "")
            if not tag.custom_emoji_id.isdigit():
                raise self._error("Invalid custom emoji identifier specified")
        if name == "a":
            tag.url = attributes.get("href")
        if name == "code" and attributes.get("class", "").startswith("language-"):
            tag.language = attributes["class"].removeprefix("language-")
        tag.expandable = name == "blockquote" and "expandable" in attributes
        return tag

    def _close(self, tag: _OpenTag) -> None:
        if tag.name == "code" and tag.language and self._stack and self._stack[-1].name == "pre":
            self._stack[-1].language = tag.language  # <pre><code class="language-x"> is one pre entity
            return
        length = self._out16 - tag.start
        if length == 0 or (tag.name == "a" and not tag.url):
            return
        entity_type = "expandable_blockquote" if tag.expandable else HTML_TAG_ENTITY_TYPES[tag.name]
        entity = {"type": entity_type, "offset": tag.start, "length": length}
        entity.update(without_none({"url": tag.url, "custom_emoji_id": tag.custom_emoji_id}))
        if tag.name == "pre" and tag.language:
            entity["language"] = tag.language
        self._entities.append(entity)


def _is_attribute_char(char: str) -> bool:
    return char.isalnum() or char in "-_"


def decode_html_escape(text: str, position: int) -> tuple[str, int] | None:
    """The character of an `&name;`/`&#N;`/`&#xN;` escape at `position` and the index after it."""
    end = text.find(";", position)
    if end == -1:
        return None
    body = text[position + 1 : end]
    if body in HTML_NAMED_ENTITIES:
        return HTML_NAMED_ENTITIES[body], end + 1
    code = _numeric_escape(body)
    if code is None or not 0 < code <= sys.maxunicode:
        return None
    return chr(code), end + 1


def _numeric_escape(body: str) -> int | None:
    if body[:2] in ("#x", "#X") and body[2:] and all(c in "0123456789abcdefABCDEF" for c in body[2:]):
        return int(body[2:], 16)
    if body[:1] == "#" and body[1:].isdigit():
        return int(body[1:])
    return None


def decode_html_escapes(text: str) -> str:
    parts: list[str] = []
    position = 0
    while position < len(text):
        decoded = decode_html_escape(text, position) if text[position] == "&" else None
        if decoded is None:
            parts.append(text[position])
            position += 1
        else:
            parts.append(decoded[0])
            position = decoded[1]
    return "".join(parts)


def strip_formatted(formatted: FormattedText) -> FormattedText:
    """Telegram trims leading and trailing whitespace and moves the entities along."""
    text = formatted.text.strip()
    shift = utf16_length(formatted.text[: len(formatted.text) - len(formatted.text.lstrip())])
    total = utf16_length(text)
    entities = []
    for entity in formatted.entities:
        start = max(0, entity["offset"] - shift)
        end = min(total, entity["offset"] + entity["length"] - shift)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return FormattedText(text, entities)


def format_text(text: str, parse_mode: str | None, entities: list[Any] | None) -> FormattedText:
    """Apply explicit entities or a parse mode; MarkdownV2/Markdown are stored unparsed."""
    if entities is not None:
        return strip_formatted(
            FormattedText(text, [entity for entity in entities if isinstance(entity, dict)])
        )
    mode = (parse_mode or "").lower()
    if mode == "html":
        return HtmlParser(text).parse()
    if mode in ("", "markdown", "markdownv2"):
        return FormattedText(text.strip(), [])
    raise ApiError("Bad Request: unsupported parse_mode")


def command_entities(text: str | None) -> list[dict[str, Any]]:
    """A bot_command entity when the text starts with /command (or /command@bot)."""
    match = LEADING_COMMAND_PATTERN.match(text or "")
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_length(match.group())}]
