## /settings panel

settings-title-user = ⚙️ Ваши настройки
settings-title-chat = ⚙️ Настройки этого чата по умолчанию
settings-chat-explained = Они действуют для всех, у кого в собственных настройках стоит «по умолчанию».
settings-group-note = В этом чате там, где у вас «по умолчанию», действуют настройки чата.
settings-hint = Нажмите на вариант, чтобы выбрать его; нажмите ещё раз, чтобы вернуть значение по умолчанию.
settings-line-version = Версия: { $value }
settings-line-aspect = Соотношение сторон: { $value }
settings-line-stylize = Стилизация: { $value }
settings-line-raw = Стиль raw: { $value }
settings-line-speed = Скорость: { $value }
settings-line-remix = Ремикс: { $value }
settings-line-language = Язык: { $value }
settings-line-buttons = Кнопки заданий: { $value }
settings-line-pool = Общий дневной лимит: { $value }
settings-value-default = по умолчанию
settings-value-on = вкл.
settings-value-off = выкл.
settings-value-telegram = как в Telegram
settings-value-pool =
    { $count ->
        [one] { $count } задание в день на всех, кроме администраторов
        [few] { $count } задания в день на всех, кроме администраторов
       *[other] { $count } заданий в день на всех, кроме администраторов
    }
settings-buttons-requester = только автор запроса
settings-buttons-everyone = все участники чата
settings-speed-fast = ⚡ Быстро
settings-speed-relax = 🐢 Медленно
settings-speed-turbo = 🚀 Турбо
settings-language-en = 🇬🇧 English
settings-language-ru = 🇷🇺 Русский
settings-language-zh-Hans = 🇨🇳 简体中文
settings-btn-raw = 📷 Стиль raw
settings-btn-remix = 🎛 Ремикс
settings-btn-reset = ♻️ Сбросить
settings-btn-mine = 👤 Мои настройки
settings-btn-chat = 👥 Настройки чата
settings-btn-buttons-requester = 🔒 Кнопки: только автор
settings-btn-buttons-everyone = 🔓 Кнопки: все
settings-btn-pool-off = 🎟 Без лимита
settings-saved = Сохранено
settings-not-yours = Это чужие настройки. Отправьте /settings, чтобы открыть свои.
settings-admins-only = Настройки чата по умолчанию могут менять только администраторы.

## /prefer

prefer-usage =
    Как пользоваться /prefer:
    /prefer suffix <текст> — добавлять текст или параметры в конец каждого запроса (без текста — убрать)
    /prefer option set <имя> <параметры> — --имя в запросе заменяется этими параметрами (без параметров — удалить)
    /prefer option list — показать ваши наборы параметров
prefer-suffix-set =
    ✅ Суффикс сохранён: <code>{ $suffix }</code>
    Он добавляется в конец каждого вашего запроса.
prefer-suffix-cleared = ✅ Суффикс удалён.
prefer-option-saved =
    ✅ Набор <code>--{ $name }</code> сохранён: <code>{ $params }</code>
    Напишите --{ $name } в запросе, чтобы его использовать.
prefer-option-deleted = ✅ Набор <code>--{ $name }</code> удалён.
prefer-option-list = Ваши наборы параметров:
prefer-option-line = <code>--{ $name }</code> → <code>{ $params }</code>
prefer-option-list-empty = У вас пока нет наборов параметров. Создайте набор: /prefer option set &lt;имя&gt; &lt;параметры&gt;
prefer-option-name-invalid = «{ $name }» не подходит как имя набора: до 24 латинских букв, цифр, - или _, первая — буква, и не параметр Midjourney вроде ar или v.
prefer-option-missing = У вас нет набора с именем --{ $name }.
prefer-option-sets-full = У вас уже { $limit } наборов — это максимум. Сначала удалите один: /prefer option set <имя>
prefer-option-too-long = Параметры набора могут быть не длиннее { $limit } символов.
prefer-suffix-too-long = Суффикс может быть не длиннее { $limit } символов.
