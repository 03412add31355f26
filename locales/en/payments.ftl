# Credits sold for Telegram Stars (only when STARS_PACKS is set).
pay-out-of-credits = You're out of credits: this costs { $price } and your balance is { $balance }. Your free jobs for today are used up. Buy credits with /buy or the button below.
pay-buy-button = ⭐ Buy credits
pay-invoice-title = { $credits } credits
pay-invoice-description = { $credits } credits for image jobs, for { $stars } Telegram Stars. Failed jobs give their credits back.
pay-invoice-label = { $credits } credits
pay-checkout-unavailable = This pack is no longer offered at this price. Send /buy to see the current packs.
pay-credited = Thank you! { $credits } credits were added. Your balance: { $balance } credits.
pay-balance = Credits: { $balance }
pay-free-left = Free jobs left today: { $left } of { $limit }
pay-purchases = Recent purchases:
pay-purchase = • { $date }: { $credits } credits for { $stars } ⭐{ $refunded ->
    [yes] {" "}(refunded)
   *[no] {""}
}
pay-credits-back = The credits for this job were given back to you.
pay-support = Questions about a payment? Write to the bot's admins here, with the date of the purchase; they can refund a payment with Telegram Stars. Purchased credits are used for image jobs in this bot only.
pay-grant-usage = Usage: /grant <user id> <credits> (a negative number takes credits away).
pay-granted = Credits for { $id } changed by { $credits }. Their balance: { $balance }.
pay-refund-usage = Usage: /refund <telegram payment charge id>
pay-refund-unknown = No payment with this charge id is known.
pay-refund-already = This payment has been refunded already.
pay-refund-failed = Telegram refused the refund: { $reason }
pay-refunded = Refunded { $stars } ⭐ to { $id } and took back { $credits } credits. Their balance: { $balance }.

# The command menu, when credits are sold
cmd-buy = Buy credits with Telegram Stars
cmd-paysupport = Help with a payment
