## Greeting and help

start-greeting =
    Привет, { $name }! Я превращаю слова в картинки.
    Отправьте /imagine и описание, например:
    /imagine маяк на скале в сумерках, масляная живопись --ar 3:2
help-text =
    <b>Как мной пользоваться</b>
    /imagine &lt;запрос&gt; — нарисовать четыре картинки; потом кнопки:
    U1–U4 увеличивают картинку, V1–V4 делают её вариации, 🔄 рисует запрос заново.
    После увеличения можно сделать вариации, отдалить или сдвинуть кадр.
    В группах пишите /imagine@{ $bot }, если там есть другие боты, или ответьте на мой вопрос.
    /help — это сообщение
simulated-notice = 🧪 Бот работает со встроенным симулятором: картинки — заглушки, нарисованные локально, а не Midjourney.
unknown-command = Я не знаю такой команды. Отправьте /help, чтобы узнать, что я умею.
private-text-hint = Чтобы нарисовать что-нибудь, отправьте /imagine и описание, например: /imagine рыжая лиса в снегу
access-denied = Извините, здесь этот бот вам недоступен.

## Asking for a prompt

ask-prompt = Что нарисовать? Ответьте на это сообщение своим запросом.
ask-prompt-placeholder = рыжая лиса в снегу, акварель
empty-prompt = Запрос пустой. Напишите после /imagine, что хотите увидеть, например: /imagine рыжая лиса в снегу
prompt-too-long = В запросе { $length } символов; этот сервис принимает не больше { $limit }.

## The job's message

caption-by = запросил(а) { $user }
caption-simulated = 🧪 симуляция
backend-waiting =
    { $state ->
        [paused] ⏸ Сервис картинок на паузе: задача ждёт в его очереди, пока он не продолжит работу.
        [unhealthy] ⚠️ У сервиса картинок неполадки: задача ждёт в его очереди, пока он не восстановится.
       *[other] ⏳ Сервис картинок запускается: задача ждёт в его очереди, пока он не будет готов.
    }
status-queued = ⏳ В очереди
status-queued-position =
    { $position ->
        [one] ⏳ В очереди — впереди { $position } задача
        [few] ⏳ В очереди — впереди { $position } задачи
       *[other] ⏳ В очереди — впереди { $position } задач
    }
status-needs-input = ✏️ Ждёт вашего ввода
status-running = 🎨 Рисую… { $percent }%
status-animating = 🎞️ Оживляю… { $percent }%
status-done = ✅ Готово
status-failed = ❌ Не получилось: { $reason }
nothing-charged = Ничего не списано.
image-unavailable = Не удалось получить картинку от сервиса.
video-too-large = 🎞️ Видео больше { $limit } МБ — столько бот не может отправить в Telegram.
video-unavailable = 🎞️ Не удалось получить видео от сервиса.
video-open = ▶️ Открыть видео
origin-upscale = Картинка №{ $index }
origin-crop = Часть №{ $index } сетки, вырезана как есть (без увеличения)
origin-variation = Вариации картинки №{ $index }
origin-reroll = Новый прогон
origin-action = { $action }

## Why a job failed

failure-banned = запрос отклонён модерацией
failure-banned-detail = запрос отклонён модерацией ({ $detail })
failure-queue-full = очередь сервиса переполнена; попробуйте через несколько минут
failure-timeout = нет результата через { $minutes } мин.
failure-cancelled = задача отменена
failure-lost = сервис потерял эту задачу
failure-invalid = сервис отказал: { $reason }
failure-unavailable = сервис недоступен
failure-offline = у сервиса сейчас нет доступного аккаунта Midjourney; попробуйте позже
failure-remix-off = сервис не может использовать изменённый промпт с этой кнопкой (у его аккаунта Midjourney выключен Remix); выключите Remix в /settings, чтобы выполнить кнопку как есть
failure-backend = { $reason }
failure-unknown = сервис сообщил об ошибке
failure-uncertain = бот перезапустился, пока передавал задачу; неизвестно, запустил ли её сервис
failure-interrupted = бот перезапустился до того, как сервис принял задачу; ничего не запущено
failure-unreadable-result = картинку от сервиса не удалось прочитать; попробуйте ещё раз
failure-account = { $problem ->
    [balance] у бота закончился баланс в сервисе изображений; владелец бота уже знает
    [token] сервис изображений не принимает ключ доступа бота (неверный или просроченный); владелец бота уже знает
   *[disabled] аккаунт бота в сервисе изображений отключён; владелец бота уже знает
}

## Buttons

btn-upscale-subtle = Увеличить (мягко)
btn-upscale-creative = Увеличить (творчески)
btn-upscale-2x = Увеличить (2x)
btn-upscale-4x = Увеличить (4x)
btn-crop = ✂️ Часть { $index }
btn-redo-upscale-subtle = 🔁 Повторить увеличение (мягко)
btn-redo-upscale-creative = 🔁 Повторить увеличение (творчески)
btn-redo-upscale-2x = 🔁 Повторить увеличение (2x)
btn-redo-upscale-4x = 🔁 Повторить увеличение (4x)
btn-vary-subtle = 🪄 Вариации (слабые)
btn-vary-strong = 🪄 Вариации (сильные)
btn-vary-region = 🖌️ Вариации (область)
btn-zoom-out-2x = 🔍 Отдалить 2x
btn-zoom-out-1-5x = 🔍 Отдалить 1.5x
btn-custom-zoom = 🔍 Свой зум
btn-make-square = ↔️ Сделать квадратной
btn-animate-high = 🎞️ Оживить (сильное движение)
btn-animate-low = 🎞️ Оживить (слабое движение)
btn-pick-clip = 🎞️ Клип { $index }
btn-extend-high = 🎞️ Продлить (сильное движение)
btn-extend-low = 🎞️ Продлить (слабое движение)
btn-retry = 🔁 Попробовать снова

## Answers to button presses

press-started = Запущено: { $action }
press-not-yours = Эти кнопки может нажимать только автор запроса.
press-expired = Эта кнопка больше недоступна.
press-unavailable = Эту кнопку здесь нельзя использовать.
press-failed = Не удалось запустить: { $reason }

## Errors

error-unavailable = Сервис картинок сейчас недоступен. Попробуйте через минуту.
error-busy = Очередь сервиса картинок переполнена. Попробуйте через несколько минут.
error-rejected = Сервис картинок отказал: { $reason }
error-internal = У нас что-то пошло не так; ошибка записана в журнал. Попробуйте ещё раз.

## Command menu

cmd-imagine = Нарисовать картинки по запросу
cmd-help = Как пользоваться ботом

## Describe, blend, shorten, prompts to edit

btn-imagine-all = 🎉 Нарисовать все
btn-show-details = Подробнее
btn-seed = 🌱 Seed
btn-use-as-is = ✅ Оставить как есть
btn-cancel = ❌ Отмена
btn-blend-portrait = Портрет 2:3
btn-blend-square = Квадрат 1:1
btn-blend-landscape = Пейзаж 3:2
btn-blend-now = 🎨 Смешать
command-unsupported = Сервис картинок этого бота не умеет /{ $command }.
image-required = Отправьте /describe подписью к фото или ответом на фото или файл с картинкой.
image-unreadable = Этот файл не похож на картинку, которую я могу прочитать (нужен JPEG, PNG или WebP).
image-too-big = Картинка слишком большая ({ $size } МБ); предел — { $limit } МБ.
picture-unavailable = Telegram не отдал мне эту картинку. Пришлите её ещё раз.
blend-count =
    { $count ->
        [one] Для /blend нужно от 2 до 5 картинок; пришла { $count }.
        [few] Для /blend нужно от 2 до 5 картинок; пришли { $count }.
       *[other] Для /blend нужно от 2 до 5 картинок; пришло { $count }.
    }
blend-start = Пришлите 2–5 фото (альбомом или по одному; в группах — ответом на это сообщение), затем нажмите «Смешать».
blend-collecting = Получено картинок: { $count } из 5. Пришлите ещё или нажмите «Смешать».
blend-choose-shape = Смешать картинки ({ $count }): выберите формат.
blend-cancelled = Смешивание отменено.
blend-full = Уже 5 картинок — больше /blend не принимает. Нажмите «Смешать».
blend-expired = Это смешивание уже закрыто. Начните заново с /blend.
shorten-empty = Напишите запрос для анализа после /shorten, например: /shorten величественный древний замок на туманном холме, золотой час
input-question = Отредактируйте запрос и пришлите его ответом на это сообщение или нажмите «✅ Оставить как есть» на картинке выше.
input-current = Текущий запрос:
input-invalid-zoom = Для «Своего зума» нужен --zoom со значением от 1 до 2, например: лиса в лесу --zoom 1.5
input-not-expected = Этот запрос больше не нужен.
input-cancelled = Отменено.
seed-unavailable = Сервис не смог назвать seed этой картинки.
seed-not-yours = Seed этой картинки может узнать только тот, кто её заказал.
seed-value = 🌱 Seed: <code>{ $seed }</code>
already-upscaled = Эта картинка уже увеличена ↑
already-cropped = Эта часть сетки уже отправлена ↑
already-animated = Эта картинка уже оживлена ↑
already-picked-clip = Этот клип уже отправлен ↑
already-extended = Это видео уже продлено ↑
text-describe-title = 🖼 Запросы для вашей картинки
text-shorten-title = ✂️ Анализ запроса
origin-prompt-pick = Запрос { $index }
cmd-describe = Запросы по картинке (пришлите её с этой подписью)
cmd-blend = Смешать 2–5 картинок в одну
cmd-shorten = Разобрать и сократить запрос

## Limits, account and admin commands

quota-active = У вас уже выполняется задач: { $limit }. Дождитесь окончания одной из них или остановите её командой /cancel.
quota-chat-active = В этом чате уже выполняется задач: { $limit }. Пожалуйста, подождите.
quota-daily = Вы израсходовали все { $limit } задач на сегодня. Лимит обновится через { $hours } ч { $minutes } мин (в 00:00 UTC).
quota-pool = Группа израсходовала общий лимит в { $limit } задач на сегодня. Он обновится через { $hours } ч { $minutes } мин (в 00:00 UTC).
me-today = Задач сегодня: { $used }
me-today-limited = Задач сегодня: { $used } из { $limit }
me-active = Выполняется сейчас: { $active }
me-active-limited = Выполняется сейчас: { $active } из { $limit }
me-resets = Дневной лимит обновится через { $hours } ч { $minutes } мин (в 00:00 UTC).
history-title = Ваши последние задачи (нажмите /show_…, чтобы вернуть результат):
history-empty = У вас пока нет задач. Попробуйте /imagine рыжая лиса в снегу
show-not-ready = У этой задачи ещё нет готового результата.
job-not-found = Не нахожу такой задачи среди ваших.
cancel-done = Остановлено.
cancel-nothing = Здесь нечего останавливать.
cancel-unsupported = Сервис не умеет останавливать уже начатую задачу; она завершится сама.
cancel-not-yet = Задача ещё передаётся сервису; отправьте /cancel ещё раз через минуту.
cancel-admin-only = Останавливать задачи на этом сервисе может только его администратор; эта задача завершится сама.
admin-only = Эта команда только для администраторов бота.
admin-usage = Укажите Telegram id (отрицательный для чата), ответьте на сообщение пользователя или вызовите команду в самой группе.
admin-allowed = Разрешено: { $subject } { $id }.
admin-banned = Заблокировано: { $subject } { $id }.
admin-cleared = Правило для { $subject } { $id } удалено.
admin-no-rule = Для { $subject } { $id } правила не было.
admin-mode-open = Доступ открыт всем (кроме заблокированных). /access closed оставит только разрешённых.
admin-mode-closed = Доступ только разрешённым пользователям и чатам (и администраторам). /access open откроет всем.
admin-rule = { $rule }: { $subject } { $id }
cmd-history = Ваши последние задачи
cmd-me = Использование и лимиты
cmd-cancel = Остановить вашу задачу
cmd-settings = Настройки картинок по умолчанию
invalid-parameter = Параметр --{ $name } { $value } недопустим; допустимо: { $expected }.
prompt-repeat-refused = --{ $name } { $value } здесь недоступен: бот показывает один результат на запрос, и каждый лишний запуск тратил бы задачи, которых вы не увидите. Отправьте запрос ещё раз.
region-mask-required = Для «Вариаций (область)» нужно выделить область: нажмите «🖌️ Выделить область» на картинке.
region-private-intro = Закрасьте на картинке область, которую нужно изменить, и отправьте её из редактора.
