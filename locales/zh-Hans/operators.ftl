# 管理员的 /stats 和 /broadcast。

stats-title = 📊 统计
stats-columns = 今天（UTC）· 最近 7 天
stats-jobs = 任务：{ $today } · { $week }
stats-outcome = { $outcome ->
    [succeeded] ✅ 完成：{ $today } · { $week }
    [failed] ❌ 失败：{ $today } · { $week }
   *[running] ⏳ 进行中：{ $today } · { $week }
}
stats-kinds = 按类型：
stats-kind = { $kind ->
    [imagine] 生成
    [variation] 变体
    [reroll] 重新生成
    [upscale] 放大
    [zoom] 缩放
    [pan] 平移
    [inpaint] 局部重绘
    [blend] 混合
    [describe] 描述
    [shorten] 精简
    [video] 视频
   *[other] { $kind }
}：{ $outcomes }
stats-kind-outcome = { $outcome ->
    [succeeded] ✅{ $today }·{ $week }
    [failed] ❌{ $today }·{ $week }
   *[running] ⏳{ $today }·{ $week }
}
stats-failures = 失败原因：
stats-failure = { $reason ->
    [banned] 审核拒绝
    [queue_full] 队列已满
    [timeout] 超时
    [cancelled] 已取消
    [lost] 服务丢失任务
    [invalid] 服务拒绝
    [unavailable] 服务不可达
    [offline] 无在线账号
    [remix_off] Remix 已关闭
    [account] 机器人账号
    [backend] 服务错误
    [interrupted] 重启（未开始）
    [uncertain] 重启（未知）
    [unreadable_result] 结果无法读取
   *[other] { $reason }
}：{ $today } · { $week }
stats-active-users = 👤 活跃用户：{ $today } · { $week }
stats-new-users = 🆕 新用户：{ $today } · { $week }
stats-stars-received = ⭐ 收到的星星：{ $today } · { $week }
stats-stars-refunded = ↩️ 退还的星星：{ $today } · { $week }

broadcast-usage = 用 /broadcast 回复要群发的消息；/broadcast cancel 停止正在进行的群发。
broadcast-already-running = 已有群发在进行；/broadcast cancel 可以停止它。
broadcast-nobody = 还没有人启动过机器人（或所有人都屏蔽了它）：没有可发送的对象。
broadcast-none-running = 当前没有群发。
broadcast-started = 已开始向 { $recipients } 位用户群发。
broadcast-cancelling = 正在停止群发。
broadcast-progress-running = 📣 群发：已发送 { $sent } · 已屏蔽 { $blocked } · 失败 { $failed } · 剩余 { $remaining }
broadcast-progress-done = 📣 群发完成：已发送 { $sent } · 已屏蔽 { $blocked } · 失败 { $failed } · 剩余 { $remaining }
broadcast-progress-cancelled = 📣 群发已取消：已发送 { $sent } · 已屏蔽 { $blocked } · 失败 { $failed } · 未发送 { $remaining }
