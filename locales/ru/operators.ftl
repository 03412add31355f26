# /stats и /broadcast для администраторов бота.

stats-title = 📊 Статистика
stats-columns = сегодня (UTC) · за 7 дней
stats-jobs = Задачи: { $today } · { $week }
stats-outcome = { $outcome ->
    [succeeded] ✅ готово: { $today } · { $week }
    [failed] ❌ ошибки: { $today } · { $week }
   *[running] ⏳ в работе: { $today } · { $week }
}
stats-kinds = По видам:
stats-kind = { $kind ->
    [imagine] imagine
    [variation] вариации
    [reroll] перегенерация
    [upscale] увеличение
    [zoom] отдаление
    [pan] сдвиг
    [inpaint] область
    [blend] смешивание
    [describe] описание
    [shorten] сокращение
    [video] видео
   *[other] { $kind }
}: { $outcomes }
stats-kind-outcome = { $outcome ->
    [succeeded] ✅{ $today }·{ $week }
    [failed] ❌{ $today }·{ $week }
   *[running] ⏳{ $today }·{ $week }
}
stats-failures = Причины ошибок:
stats-failure = { $reason ->
    [banned] модерация
    [queue_full] очередь полна
    [timeout] время вышло
    [cancelled] отменено
    [lost] сервис потерял задачу
    [invalid] сервис отказал
    [unavailable] сервис недоступен
    [offline] нет аккаунта в сети
    [remix_off] Remix выключен
    [account] аккаунт бота
    [backend] ошибка сервиса
    [interrupted] перезапуск (не начато)
    [uncertain] перезапуск (неизвестно)
    [unreadable_result] нечитаемый результат
   *[other] { $reason }
}: { $today } · { $week }
stats-active-users = 👤 Активные пользователи: { $today } · { $week }
stats-new-users = 🆕 Новые пользователи: { $today } · { $week }
stats-stars-received = ⭐ Получено звёзд: { $today } · { $week }
stats-stars-refunded = ↩️ Возвращено звёзд: { $today } · { $week }

broadcast-usage = Ответьте командой /broadcast на сообщение, которое нужно разослать; /broadcast cancel останавливает рассылку.
broadcast-already-running = Рассылка уже идёт; /broadcast cancel её остановит.
broadcast-nobody = Бота ещё никто не запускал (или все его заблокировали): рассылать некому.
broadcast-none-running = Сейчас рассылки нет.
broadcast-started = Рассылка на { $recipients } пользователей начата.
broadcast-cancelling = Останавливаю рассылку.
broadcast-progress-running = 📣 Рассылка: отправлено { $sent } · заблокировали { $blocked } · ошибки { $failed } · осталось { $remaining }
broadcast-progress-done = 📣 Рассылка завершена: отправлено { $sent } · заблокировали { $blocked } · ошибки { $failed } · осталось { $remaining }
broadcast-progress-cancelled = 📣 Рассылка отменена: отправлено { $sent } · заблокировали { $blocked } · ошибки { $failed } · не отправлено { $remaining }
