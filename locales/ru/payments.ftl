# Кредиты за Telegram Stars (только если задан STARS_PACKS).
pay-out-of-credits = Кредиты закончились: это стоит { $price }, на балансе { $balance }. Бесплатные задания на сегодня израсходованы. Купить кредиты — /buy или кнопка ниже.
pay-buy-button = ⭐ Купить кредиты
pay-invoice-title = Кредиты: { $credits }
pay-invoice-description = { $credits } кредитов на генерацию изображений за { $stars } Telegram Stars. За неудавшиеся задания кредиты возвращаются.
pay-invoice-label = Кредиты: { $credits }
pay-checkout-unavailable = Этот пакет больше не продаётся по этой цене. Отправьте /buy, чтобы увидеть текущие пакеты.
pay-credited = Спасибо! Добавлено кредитов: { $credits }. Ваш баланс: { $balance }.
pay-balance = Кредиты: { $balance }
pay-free-left = Бесплатных заданий на сегодня осталось: { $left } из { $limit }
pay-purchases = Последние покупки:
pay-purchase = • { $date }: { $credits } кредитов за { $stars } ⭐{ $refunded ->
    [yes] {" "}(возвращено)
   *[no] {""}
}
pay-credits-back = Кредиты за это задание возвращены.
pay-support = Вопросы об оплате? Напишите администраторам бота здесь и укажите дату покупки — они могут вернуть платёж в Telegram Stars. Купленные кредиты тратятся только на задания в этом боте.
pay-grant-usage = Использование: /grant <id пользователя> <кредиты> (отрицательное число списывает кредиты).
pay-granted = Кредиты пользователя { $id } изменены на { $credits }. Его баланс: { $balance }.
pay-refund-usage = Использование: /refund <telegram payment charge id>
pay-refund-unknown = Платёж с таким charge id неизвестен.
pay-refund-already = Этот платёж уже возвращён.
pay-refund-failed = Telegram отказал в возврате: { $reason }
pay-refunded = Возвращено { $stars } ⭐ пользователю { $id }, списано кредитов: { $credits }. Его баланс: { $balance }.

# The command menu, when credits are sold
cmd-buy = Купить кредиты за Telegram Stars
cmd-paysupport = Помощь с оплатой
