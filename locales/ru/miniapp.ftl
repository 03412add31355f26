## Редактор Vary (Region), мини-приложение Telegram

region-title = Vary (Region)
region-hint = Закрасьте часть картинки, которую нужно переделать, и напишите, что там должно быть.
region-image-alt = Картинка для правки
region-prompt-label = Промпт
region-tools-label = Инструменты
region-tool-brush = Кисть
region-tool-eraser = Ластик
region-tool-rect = Прямоугольник
region-tool-lasso = Лассо
region-brush-size = Размер кисти
region-undo = Отменить
region-clear = Очистить
region-submit = Отправить
region-cancel = Отмена
region-sending = Отправляем…
region-done = Отправлено. Новые картинки появятся в чате.
region-cancelled = Ничего не отправлено. Эту страницу можно закрыть.
region-error-empty = Сначала закрасьте область, которую нужно изменить.
region-error-auth = Откройте редактор кнопкой в Telegram.
region-error-forbidden = Это может сделать только тот, кто нажал кнопку.
region-error-gone = Эта картинка больше не ждёт выделения области.
region-error-failed = Что-то пошло не так. Попробуйте ещё раз.
region-open-button = 🖌️ Выделить область
region-open-private = 🖌️ Выделить область в личном чате
