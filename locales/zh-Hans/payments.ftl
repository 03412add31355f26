# 用 Telegram Stars 购买积分（仅在设置 STARS_PACKS 时）。
pay-out-of-credits = 积分不足：此操作需要 { $price } 积分，您的余额为 { $balance }。今天的免费任务已用完。请使用 /buy 或下方按钮购买积分。
pay-buy-button = ⭐ 购买积分
pay-invoice-title = { $credits } 积分
pay-invoice-description = { $credits } 积分用于图像任务，价格 { $stars } Telegram Stars。失败的任务会退还积分。
pay-invoice-label = { $credits } 积分
pay-checkout-unavailable = 此套餐已不再以该价格提供。发送 /buy 查看当前套餐。
pay-credited = 谢谢！已添加 { $credits } 积分。您的余额：{ $balance } 积分。
pay-balance = 积分：{ $balance }
pay-free-left = 今天剩余免费任务：{ $left } / { $limit }
pay-purchases = 最近购买：
pay-purchase = • { $date }：{ $credits } 积分，{ $stars } ⭐{ $refunded ->
    [yes] {" "}（已退款）
   *[no] {""}
}
pay-credits-back = 此任务的积分已退还给您。
pay-support = 对付款有疑问？请在此联系机器人管理员并注明购买日期；他们可以退还 Telegram Stars 付款。购买的积分仅用于本机器人的图像任务。
pay-grant-usage = 用法：/grant <用户 id> <积分>（负数表示扣除积分）。
pay-granted = 用户 { $id } 的积分变动 { $credits }。其余额：{ $balance }。
pay-refund-usage = 用法：/refund <telegram payment charge id>
pay-refund-unknown = 未找到此 charge id 的付款。
pay-refund-already = 此付款已退款。
pay-refund-failed = Telegram 拒绝退款：{ $reason }
pay-refunded = 已向 { $id } 退还 { $stars } ⭐，并扣回 { $credits } 积分。其余额：{ $balance }。

# The command menu, when credits are sold
cmd-buy = 用 Telegram Stars 购买积分
cmd-paysupport = 付款帮助
