"""Preference rules: prompt completion, /prefer parsing, panel choices, stored documents."""

from __future__ import annotations

import itertools

import pytest

from bot.domain.errors import (
    DomainError,
    OptionNameInvalid,
    OptionParamsTooLong,
    OptionSetMissing,
    OptionSetsFull,
    PreferUsage,
    SuffixTooLong,
)
from bot.preferences import (
    MAX_OPTION_PARAMS_LENGTH,
    MAX_OPTION_SETS,
    MAX_SUFFIX_LENGTH,
    ListOptions,
    Preferences,
    SetOption,
    SetSuffix,
    Setting,
    choose,
    effective_prompt,
    parse_prefer,
)

NONE = Preferences()
CINE = {"cine": "--ar 21:9 --s 750"}
URL_A = "https://cdn.example.com/a.png"
URL_B = "<https://cdn.example.com/b.jpg>"

# (prompt, user preferences, chat defaults or None, expected prompt)
CASES: list[tuple[str, Preferences, Preferences | None, str]] = [
    ("a cat", NONE, None, "a cat"),
    ("  a   cat \n on a mat ", NONE, None, "a cat on a mat"),
    ("", Preferences(version="7", suffix="watercolor"), None, ""),
    ("a cat", Preferences(version="7"), None, "a cat --v 7"),
    ("a cat", Preferences(version="6.1"), None, "a cat --v 6.1"),
    ("a cat", Preferences(version="niji 6"), None, "a cat --niji 6"),
    ("a cat --v 6", Preferences(version="niji 6"), None, "a cat --v 6"),
    ("a cat --niji 5", Preferences(version="7"), None, "a cat --niji 5"),
    ("a cat --version 5.2", Preferences(version="7"), None, "a cat --version 5.2"),
    ("a cat --NIJI 6", Preferences(version="7"), None, "a cat --NIJI 6"),
    ("a cat", Preferences(aspect="16:9"), None, "a cat --ar 16:9"),
    ("a cat --aspect 2:3", Preferences(aspect="16:9"), None, "a cat --aspect 2:3"),
    ("a cat —ar 2:3", Preferences(aspect="16:9"), None, "a cat --ar 2:3"),
    ("a cat", Preferences(stylize=0), None, "a cat --s 0"),
    ("a cat --stylize 100", Preferences(stylize=750), None, "a cat --stylize 100"),
    ("a cat --s 100", Preferences(stylize=750), None, "a cat --s 100"),
    ("a cat", Preferences(raw=True), None, "a cat --style raw"),
    ("a cat --style cute", Preferences(raw=True), None, "a cat --style cute"),
    ("a cat", Preferences(raw=True, version="niji 5"), None, "a cat --niji 5"),
    ("a cat --niji 5", Preferences(raw=True), None, "a cat --niji 5"),
    ("a cat --niji 6", Preferences(raw=True), None, "a cat --niji 6 --style raw"),
    ("a cat", Preferences(speed="relax"), None, "a cat --relax"),
    ("a cat --turbo", Preferences(speed="fast"), None, "a cat --turbo"),
    ("a cat --fast", Preferences(speed="fast"), None, "a cat --fast"),
    (
        "a cat",
        Preferences(version="7", aspect="3:2", stylize=250, raw=True, speed="fast"),
        None,
        "a cat --ar 3:2 --v 7 --s 250 --style raw --fast",
    ),
    (
        "a cat --chaos 20 --no red cars",
        Preferences(aspect="1:1"),
        None,
        "a cat --chaos 20 --no red cars --ar 1:1",
    ),
    # image URLs at the start stay as they are, also when nothing but URLs is given
    (f"{URL_A} {URL_B} a cat", Preferences(suffix="watercolor"), None, f"{URL_A} {URL_B} a cat watercolor"),
    (URL_A, Preferences(version="7"), None, f"{URL_A} --v 7"),
    (f"{URL_A} --iw 2", Preferences(suffix="ink sketch"), None, f"{URL_A} ink sketch --iw 2"),
    # the suffix: text before the parameters, its parameters only where the prompt has none
    ("a cat", Preferences(suffix="watercolor"), None, "a cat watercolor"),
    ("a cat, watercolor", Preferences(suffix="watercolor"), None, "a cat, watercolor"),
    ("a cat --ar 2:3 watercolor", Preferences(suffix="watercolor"), None, "a cat --ar 2:3 watercolor"),
    (
        "a cat --ar 2:3 watercolor",
        Preferences(suffix="watercolor", version="7"),
        None,
        "a cat --ar 2:3 watercolor --v 7",
    ),
    ("a cat --v 6", Preferences(suffix="--v 6"), None, "a cat --v 6"),
    ("a cat", Preferences(suffix="--v 6", version="7"), None, "a cat --v 6"),
    (
        "a cat --ar 2:3",
        Preferences(suffix="watercolor --ar 1:1 --c 10"),
        None,
        "a cat watercolor --ar 2:3 --c 10",
    ),
    ("a cat", Preferences(suffix="--c 10 --chaos 20"), None, "a cat --c 10"),
    # option sets
    ("a cat --cine", Preferences(option_sets=CINE, aspect="16:9"), None, "a cat --ar 21:9 --s 750"),
    ("a cat --CINE", Preferences(option_sets=CINE), None, "a cat --ar 21:9 --s 750"),
    ("a cat --cine --cine", Preferences(option_sets=CINE), None, "a cat --ar 21:9 --s 750"),
    ("a cat --cinema", Preferences(option_sets=CINE), None, "a cat --cinema"),
    ("a cat", Preferences(option_sets=CINE, suffix="--cine"), None, "a cat --ar 21:9 --s 750"),
    (
        "x --a",
        Preferences(option_sets={"a": "--b --c 5", "b": "--a --s 10"}),
        None,
        "x --s 10 --c 5",
    ),
    (
        "a cat --cine",
        Preferences(option_sets={"cine": "--ar 4:3"}),
        Preferences(option_sets=CINE),
        "a cat --ar 4:3",
    ),
    ("a cat --cine", NONE, Preferences(option_sets=CINE), "a cat --ar 21:9 --s 750"),
    # chat defaults fill in what the user left unset; the user's own choices win
    ("a fox", NONE, Preferences(aspect="9:16", version="6"), "a fox --ar 9:16 --v 6"),
    ("a fox", Preferences(aspect="1:1"), Preferences(aspect="9:16", version="6"), "a fox --ar 1:1 --v 6"),
    ("a fox", Preferences(stylize=0), Preferences(stylize=750), "a fox --s 0"),
    ("a fox", NONE, Preferences(raw=True), "a fox --style raw"),
    ("a fox", NONE, Preferences(suffix="ink"), "a fox ink"),
    ("a fox", Preferences(suffix="oil"), Preferences(suffix="ink"), "a fox oil"),
]


@pytest.mark.parametrize(("prompt", "user", "chat", "expected"), CASES)
def test_effective_prompt(prompt: str, user: Preferences, chat: Preferences | None, expected: str) -> None:
    assert effective_prompt(prompt, user, chat) == expected


@pytest.mark.parametrize(("prompt", "user", "chat", "expected"), CASES)
def test_effective_prompt_is_idempotent(
    prompt: str, user: Preferences, chat: Preferences | None, expected: str
) -> None:
    assert effective_prompt(expected, user, chat) == expected


PROMPTS = [
    "a cat",
    "a cat --ar 2:3",
    "a cat --ar 2:3 watercolor",
    "a cat, watercolor --v 6 --style cute",
    f"{URL_A} a cat --niji 5 --no dogs",
    URL_A,
    "a cat --mine --fast",
    "--mine",
    "watercolor",
]
PREFERENCE_GRID = [
    NONE,
    Preferences(version="niji 5", raw=True, speed="turbo"),
    Preferences(aspect="16:9", stylize=0, suffix="watercolor"),
    Preferences(suffix="in ink --ar 1:1 --c 5", option_sets={"mine": "glossy --s 50 --ar 4:3"}),
    Preferences(suffix=f"{URL_B} collage", raw=True, version="7"),
]


@pytest.mark.parametrize(
    ("prompt", "user", "chat"),
    list(itertools.product(PROMPTS, PREFERENCE_GRID, [None, *PREFERENCE_GRID[1:3]])),
)
def test_completion_never_changes_a_completed_prompt(
    prompt: str, user: Preferences, chat: Preferences | None
) -> None:
    once = effective_prompt(prompt, user, chat)
    assert effective_prompt(once, user, chat) == once
    for flag in ("--v ", "--niji ", "--ar ", "--s ", "--style ", "--fast", "--relax", "--turbo"):
        assert once.count(flag) <= 1, f"{flag!r} twice in {once!r}"


# --- /prefer ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("suffix --ar 16:9", SetSuffix("--ar 16:9")),
        ("SUFFIX  in   ink —v 6", SetSuffix("in ink --v 6")),
        ("suffix", SetSuffix("")),
        ("suffix   ", SetSuffix("")),
        ("option set cine --ar 21:9 --s 750", SetOption("cine", "--ar 21:9 --s 750")),
        ("option set --Cine --ar 21:9", SetOption("cine", "--ar 21:9")),
        ("Option Set my-look_2 glossy", SetOption("my-look_2", "glossy")),
        ("option set cine", SetOption("cine", "")),
        ("option list", ListOptions()),
        ("option  LIST", ListOptions()),
    ],
)
def test_parse_prefer(args: str, expected: SetSuffix | SetOption | ListOptions) -> None:
    assert parse_prefer(args) == expected


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (None, PreferUsage),
        ("", PreferUsage),
        ("remix", PreferUsage),
        ("option", PreferUsage),
        ("option set", PreferUsage),
        ("option list cine", PreferUsage),
        ("option delete cine", PreferUsage),
        ("option set ar --ar 1:1", OptionNameInvalid),
        ("option set niji x", OptionNameInvalid),
        ("option set 9lives x", OptionNameInvalid),
        ("option set ab!c x", OptionNameInvalid),
        ("option set " + "n" * 25 + " x", OptionNameInvalid),
        ("option set long " + "x" * (MAX_OPTION_PARAMS_LENGTH + 1), OptionParamsTooLong),
        ("suffix " + "x" * (MAX_SUFFIX_LENGTH + 1), SuffixTooLong),
    ],
)
def test_parse_prefer_refuses(args: str | None, error: type[DomainError]) -> None:
    with pytest.raises(error):
        parse_prefer(args)


def test_refusals_carry_what_their_message_needs() -> None:
    with pytest.raises(OptionNameInvalid) as bad_name:
        parse_prefer("option set AR x")
    with pytest.raises(SuffixTooLong) as long_suffix:
        parse_prefer("suffix " + "x" * (MAX_SUFFIX_LENGTH + 1))
    assert bad_name.value.args_for_message == {"name": "ar"}
    assert long_suffix.value.args_for_message == {"limit": MAX_SUFFIX_LENGTH}


def test_option_sets_add_replace_and_delete() -> None:
    prefs = NONE.with_option_set("cine", "--ar 21:9").with_option_set("cine", "--ar 4:3")
    assert dict(prefs.option_sets) == {"cine": "--ar 4:3"}
    assert dict(prefs.with_option_set("cine", "").option_sets) == {}
    with pytest.raises(OptionSetMissing) as missing:
        prefs.with_option_set("ghost", "")
    assert missing.value.args_for_message == {"name": "ghost"}


def test_option_sets_are_limited_but_existing_ones_stay_replaceable() -> None:
    full = Preferences(option_sets={f"set{i}": "--s 1" for i in range(MAX_OPTION_SETS)})
    with pytest.raises(OptionSetsFull):
        full.with_option_set("onemore", "--s 2")
    assert full.with_option_set("set0", "--s 2").option_sets["set0"] == "--s 2"


# --- panel choices ------------------------------------------------------------------------------------------


def test_choosing_picks_a_value_and_choosing_it_again_returns_to_the_default() -> None:
    picked = choose(NONE, Setting.VERSION, "niji 6")
    assert picked.version == "niji 6"
    assert choose(picked, Setting.VERSION, "7").version == "7"
    assert choose(picked, Setting.VERSION, "niji 6").version is None
    assert choose(NONE, Setting.STYLIZE, "0").stylize == 0
    assert choose(Preferences(stylize=0), Setting.STYLIZE, "0").stylize is None
    assert choose(NONE, Setting.LANGUAGE, "zh-Hans").language == "zh-Hans"


@pytest.mark.parametrize(
    ("setting", "field"), [(Setting.RAW, "raw"), (Setting.REMIX, "remix"), (Setting.BUTTONS, "buttons_open")]
)
def test_toggles(setting: Setting, field: str) -> None:
    on = choose(NONE, setting, None)
    assert getattr(on, field) is True
    assert getattr(choose(on, setting, None), field) is False


def test_daily_pool_choices() -> None:
    pooled = choose(NONE, Setting.POOL, "50")
    assert pooled.daily_pool == 50
    assert choose(pooled, Setting.POOL, "0").daily_pool is None
    assert choose(pooled, Setting.POOL, "50").daily_pool is None
    assert choose(NONE, Setting.POOL, "0") == NONE


def test_reset_clears_image_settings_but_keeps_prefer_and_chat_access() -> None:
    busy = Preferences(
        version="7",
        aspect="1:1",
        stylize=50,
        raw=True,
        speed="turbo",
        remix=True,
        language="ru",
        suffix="ink",
        option_sets=CINE,
        buttons_open=True,
        daily_pool=20,
    )
    assert choose(busy, Setting.RESET, None) == Preferences(
        suffix="ink", option_sets=CINE, buttons_open=True, daily_pool=20
    )


# --- the stored document ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"version": "8"},
        {"aspect": "5:4"},
        {"stylize": 1001},
        {"stylize": -1},
        {"stylize": True},
        {"speed": "slow"},
        {"language": "de"},
        {"raw": 1},
        {"suffix": "x" * (MAX_SUFFIX_LENGTH + 1)},
        {"option_sets": {"ar": "--ar 1:1"}},
        {"option_sets": {"ok": ""}},
        {"daily_pool": 0},
    ],
)
def test_invalid_values_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Preferences(**changes)  # type: ignore[arg-type]


def test_document_round_trip_stores_only_what_differs_from_the_defaults() -> None:
    prefs = Preferences(version="niji 6", stylize=0, option_sets=CINE, daily_pool=100)
    assert NONE.to_data() == {}
    assert prefs.to_data() == {"version": "niji 6", "stylize": 0, "option_sets": CINE, "daily_pool": 100}
    assert Preferences.from_data(prefs.to_data()) == prefs


def test_a_document_with_values_no_longer_valid_keeps_the_rest() -> None:
    stored = {
        "version": "4",
        "aspect": "16:9",
        "stylize": 5000,
        "raw": "yes",
        "retired_setting": 1,
        "option_sets": {"ok": "--ar 1:1", "ar": "--ar 2:3", "empty": "", "n": 5},
    }
    assert Preferences.from_data(stored) == Preferences(aspect="16:9", option_sets={"ok": "--ar 1:1"})


def test_preferences_cannot_be_changed_in_place() -> None:
    prefs = Preferences(option_sets=CINE)
    with pytest.raises(TypeError):
        prefs.option_sets["new"] = "--s 1"  # type: ignore[index]
