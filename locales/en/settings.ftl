## /settings panel

settings-title-user = ⚙️ Your settings
settings-title-chat = ⚙️ Defaults for this chat
settings-chat-explained = They apply to everyone here whose own settings say “default”.
settings-group-note = In this chat, the chat's defaults fill in wherever yours say “default”.
settings-hint = Tap a choice to pick it; tap it again to go back to the default.
settings-line-version = Version: { $value }
settings-line-aspect = Aspect ratio: { $value }
settings-line-stylize = Stylize: { $value }
settings-line-raw = Raw style: { $value }
settings-line-speed = Speed: { $value }
settings-line-remix = Remix: { $value }
settings-line-language = Language: { $value }
settings-line-buttons = Job buttons: { $value }
settings-line-pool = Daily pool: { $value }
settings-value-default = default
settings-value-on = on
settings-value-off = off
settings-value-telegram = as in Telegram
settings-value-pool =
    { $count ->
        [one] { $count } job a day, shared by everyone but admins
       *[other] { $count } jobs a day, shared by everyone but admins
    }
settings-buttons-requester = only the person who asked
settings-buttons-everyone = everyone in the chat
settings-speed-fast = ⚡ Fast
settings-speed-relax = 🐢 Relax
settings-speed-turbo = 🚀 Turbo
settings-language-en = 🇬🇧 English
settings-language-ru = 🇷🇺 Русский
settings-language-zh-Hans = 🇨🇳 简体中文
settings-btn-raw = 📷 Raw style
settings-btn-remix = 🎛 Remix
settings-btn-reset = ♻️ Reset
settings-btn-mine = 👤 My settings
settings-btn-chat = 👥 Chat defaults
settings-btn-buttons-requester = 🔒 Buttons: requester only
settings-btn-buttons-everyone = 🔓 Buttons: everyone
settings-btn-pool-off = 🎟 No pool
settings-saved = Saved
settings-not-yours = These settings belong to someone else. Send /settings to open your own.
settings-admins-only = Only chat administrators can change this chat's defaults.

## /prefer

prefer-usage =
    How to use /prefer:
    /prefer suffix <text> — add text or parameters to the end of every prompt (nothing after suffix: remove it)
    /prefer option set <name> <parameters> — make --name in a prompt stand for the parameters (no parameters: delete it)
    /prefer option list — show your option sets
prefer-suffix-set =
    ✅ Suffix saved: <code>{ $suffix }</code>
    It is added to the end of each of your prompts.
prefer-suffix-cleared = ✅ Suffix removed.
prefer-option-saved =
    ✅ Option set <code>--{ $name }</code> saved: <code>{ $params }</code>
    Write --{ $name } in a prompt to use it.
prefer-option-deleted = ✅ Option set <code>--{ $name }</code> deleted.
prefer-option-list = Your option sets:
prefer-option-line = <code>--{ $name }</code> → <code>{ $params }</code>
prefer-option-list-empty = You have no option sets yet. Create one with /prefer option set &lt;name&gt; &lt;parameters&gt;
prefer-option-name-invalid = “{ $name }” can't name an option set: use up to 24 Latin letters, digits, - or _, starting with a letter, and not a Midjourney parameter such as ar or v.
prefer-option-missing = You have no option set named --{ $name }.
prefer-option-sets-full = You already have { $limit } option sets, the most allowed. Delete one first: /prefer option set <name>
prefer-option-too-long = An option set's parameters can be at most { $limit } characters long.
prefer-suffix-too-long = The suffix can be at most { $limit } characters long.
