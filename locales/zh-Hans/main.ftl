## Greeting and help

start-greeting =
    你好，{ $name }！我能把文字变成图片。
    发送 /imagine 加上描述，例如：
    /imagine 黄昏时悬崖上的灯塔，油画 --ar 3:2
help-text =
    <b>使用方法</b>
    /imagine &lt;提示词&gt; — 生成四张图片，然后使用按钮：
    U1–U4 放大其中一张，V1–V4 生成它的变体，🔄 重新生成。
    放大后还可以变化、缩小视野或平移画面。
    在群组中，如果有其他机器人，请发送 /imagine@{ $bot }，或回复我的提问。
    /help — 显示本帮助
simulated-notice = 🧪 本机器人正在使用内置模拟器：图片是本地绘制的占位图，并非 Midjourney 生成。
unknown-command = 我不认识这个命令。发送 /help 查看我能做什么。
private-text-hint = 想画点什么？发送 /imagine 加上描述，例如：/imagine 雪地里的红狐狸
access-denied = 抱歉，你无法在这里使用这个机器人。

## Asking for a prompt

ask-prompt = 要画什么？请回复这条消息并写下提示词。
ask-prompt-placeholder = 雪地里的红狐狸，水彩
empty-prompt = 提示词为空。请在 /imagine 后写下你想看到的内容，例如：/imagine 雪地里的红狐狸
prompt-too-long = 提示词有 { $length } 个字符；该服务最多接受 { $limit } 个。

## The job's message

caption-by = 由 { $user } 提交
caption-simulated = 🧪 模拟
backend-waiting =
    { $state ->
        [paused] ⏸ 图像服务已暂停：任务在其队列中等待，恢复后开始。
        [unhealthy] ⚠️ 图像服务出现故障：任务在其队列中等待，恢复后开始。
       *[other] ⏳ 图像服务正在启动：任务在其队列中等待，就绪后开始。
    }
status-queued = ⏳ 排队中
status-queued-position = ⏳ 排队中 — 前面还有 { $position } 个任务
status-needs-input = ✏️ 等待你的输入
status-running = 🎨 绘制中… { $percent }%
status-animating = 🎞️ 生成动画中… { $percent }%
status-done = ✅ 完成
status-failed = ❌ 失败：{ $reason }
nothing-charged = 未扣除任何费用。
image-unavailable = 无法从服务获取图片。
video-too-large = 🎞️ 视频超过 { $limit } MB，机器人无法在 Telegram 上发送。
video-unavailable = 🎞️ 无法从服务获取视频。
video-open = ▶️ 打开视频
origin-upscale = 图片 #{ $index }
origin-crop = 网格的第 { $index } 格，原样裁出（未放大）
origin-variation = 图片 #{ $index } 的变体
origin-reroll = 重新生成
origin-action = { $action }

## Why a job failed

failure-banned = 提示词未通过审核
failure-banned-detail = 提示词未通过审核（{ $detail }）
failure-queue-full = 服务队列已满，请几分钟后再试
failure-timeout = { $minutes } 分钟后仍无结果
failure-cancelled = 任务已取消
failure-lost = 服务丢失了这个任务
failure-invalid = 服务拒绝了请求：{ $reason }
failure-unavailable = 无法连接到服务
failure-offline = 服务当前没有可用的 Midjourney 账号，请稍后再试
failure-remix-off = 服务无法在此按钮上使用修改后的提示词（其 Midjourney 账号未开启 Remix）；在 /settings 中关闭 Remix 即可按原样执行该按钮
failure-backend = { $reason }
failure-unknown = 服务报告了一个错误
failure-uncertain = 机器人在提交任务时重启了，无法确定服务是否已运行它
failure-interrupted = 机器人在服务接收任务之前重启了，没有启动任何任务
failure-unreadable-result = 无法读取服务返回的图片；请重试
failure-account = { $problem ->
    [balance] 机器人在图像服务的账户余额已用完；已通知机器人的运营者
    [token] 图像服务不接受机器人的访问密钥（错误或已过期）；已通知机器人的运营者
   *[disabled] 机器人在图像服务的账户已被停用；已通知机器人的运营者
}

## Buttons

btn-upscale-subtle = 放大（细微）
btn-upscale-creative = 放大（创意）
btn-upscale-2x = 放大（2x）
btn-upscale-4x = 放大（4x）
btn-crop = ✂️ 第 { $index } 格
btn-redo-upscale-subtle = 🔁 重新放大（细微）
btn-redo-upscale-creative = 🔁 重新放大（创意）
btn-redo-upscale-2x = 🔁 重新放大（2x）
btn-redo-upscale-4x = 🔁 重新放大（4x）
btn-vary-subtle = 🪄 变化（细微）
btn-vary-strong = 🪄 变化（强烈）
btn-vary-region = 🖌️ 局部重绘
btn-zoom-out-2x = 🔍 缩小 2x
btn-zoom-out-1-5x = 🔍 缩小 1.5x
btn-custom-zoom = 🔍 自定义缩放
btn-make-square = ↔️ 变为方形
btn-animate-high = 🎞️ 生成动画（高动态）
btn-animate-low = 🎞️ 生成动画（低动态）
btn-pick-clip = 🎞️ 片段 { $index }
btn-extend-high = 🎞️ 延长（高动态）
btn-extend-low = 🎞️ 延长（低动态）
btn-retry = 🔁 重试

## Answers to button presses

press-started = 已开始：{ $action }
press-not-yours = 只有提交者可以使用这些按钮。
press-expired = 这个按钮已失效。
press-unavailable = 这里不能使用这个按钮。
press-failed = 无法开始：{ $reason }

## Errors

error-unavailable = 图片服务暂时无法连接，请一分钟后再试。
error-busy = 图片服务队列已满，请几分钟后再试。
error-rejected = 图片服务拒绝了请求：{ $reason }
error-internal = 我们这边出了点问题，已记录日志。请再试一次。

## Command menu

cmd-imagine = 根据提示词生成图片
cmd-help = 使用帮助

## Describe, blend, shorten, prompts to edit

btn-imagine-all = 🎉 全部生成
btn-show-details = 查看详情
btn-seed = 🌱 种子
btn-use-as-is = ✅ 直接使用
btn-cancel = ❌ 取消
btn-blend-portrait = 竖版 2:3
btn-blend-square = 方形 1:1
btn-blend-landscape = 横版 3:2
btn-blend-now = 🎨 开始混合
command-unsupported = 本机器人使用的图片服务不支持 /{ $command }。
image-required = 请把 /describe 作为图片的说明发送，或用它回复一张图片或图片文件。
image-unreadable = 这个文件不是我能读取的图片（请使用 JPEG、PNG 或 WebP）。
image-too-big = 图片太大（{ $size } MB），上限为 { $limit } MB。
picture-unavailable = Telegram 没有把这张图片交给我。请重新发送。
blend-count = /blend 需要 2 到 5 张图片，我收到了 { $count } 张。
blend-start = 请发送 2 到 5 张图片（相册或逐张发送；在群组中请回复这条消息），然后点击“开始混合”。
blend-collecting = 已收到 { $count }/5 张图片。继续发送，或点击“开始混合”。
blend-choose-shape = 混合 { $count } 张图片：请选择画幅。
blend-cancelled = 已取消混合。
blend-full = 已有 5 张图片，这是 /blend 的上限。请点击“开始混合”。
blend-expired = 这次混合已关闭，请重新发送 /blend。
shorten-empty = 请在 /shorten 后写下要分析的提示词，例如：/shorten 薄雾山丘上宏伟的古堡，黄金时刻
input-question = 编辑提示词后回复这条消息发送，或点击上方图片的“✅ 直接使用”。
input-current = 当前提示词：
input-invalid-zoom = 自定义缩放需要 --zoom，取值 1 到 2，例如：森林里的狐狸 --zoom 1.5
input-not-expected = 已不需要这个提示词。
input-cancelled = 已取消。
seed-unavailable = 服务无法提供这张图片的种子。
seed-not-yours = 只有提交这张图片的人才能获取它的种子。
seed-value = 🌱 种子：<code>{ $seed }</code>
already-upscaled = 这张图片已经放大过了 ↑
already-cropped = 网格的这一格已经发送过了 ↑
already-animated = 这张图片已经生成过动画了 ↑
already-picked-clip = 这个片段已经发送过了 ↑
already-extended = 这个视频已经延长过了 ↑
text-describe-title = 🖼 图片的提示词
text-shorten-title = ✂️ 提示词分析
origin-prompt-pick = 提示词 { $index }
cmd-describe = 为图片生成提示词（发送图片并附上此命令）
cmd-blend = 将 2–5 张图片混合成一张
cmd-shorten = 分析并精简提示词

## Limits, account and admin commands

quota-active = 你已有 { $limit } 个任务在运行。请等待其中一个完成，或用 /cancel 停止一个。
quota-chat-active = 本聊天已有 { $limit } 个任务在运行，请稍候。
quota-daily = 你今天的 { $limit } 个任务额度已用完，将在 { $hours } 小时 { $minutes } 分钟后重置（UTC 00:00）。
quota-pool = 本群今天共享的 { $limit } 个任务额度已用完，将在 { $hours } 小时 { $minutes } 分钟后重置（UTC 00:00）。
me-today = 今日任务：{ $used }
me-today-limited = 今日任务：{ $used } / { $limit }
me-active = 正在运行：{ $active }
me-active-limited = 正在运行：{ $active } / { $limit }
me-resets = 每日额度将在 { $hours } 小时 { $minutes } 分钟后重置（UTC 00:00）。
history-title = 你最近的任务（点击 /show_… 重新显示结果）：
history-empty = 你还没有任务。试试 /imagine 雪地里的红狐狸
show-not-ready = 这个任务还没有可显示的结果。
job-not-found = 在你的任务中找不到它。
cancel-done = 已停止。
cancel-nothing = 这里没有你可以停止的任务。
cancel-unsupported = 该服务无法停止已开始的任务，它会自行完成。
cancel-not-yet = 任务仍在提交给图像服务，请稍后再发送 /cancel。
cancel-admin-only = 只有该服务的管理员才能停止任务；此任务会自行完成。
admin-only = 此命令仅限机器人管理员使用。
admin-usage = 请提供 Telegram id（聊天为负数），或回复该用户的消息，或在群组中直接使用。
admin-allowed = 已允许：{ $subject } { $id }。
admin-banned = 已封禁：{ $subject } { $id }。
admin-cleared = 已删除 { $subject } { $id } 的规则。
admin-no-rule = { $subject } { $id } 没有规则。
admin-mode-open = 访问：对所有人开放（被封禁者除外）。/access closed 只允许名单内的用户和聊天。
admin-mode-closed = 访问：仅限允许的用户和聊天（以及管理员）。/access open 对所有人开放。
admin-rule = { $rule }：{ $subject } { $id }
cmd-history = 你最近的任务
cmd-me = 用量与限额
cmd-cancel = 停止你正在运行的任务
cmd-settings = 默认图片设置
invalid-parameter = 参数 --{ $name } { $value } 无效，可接受：{ $expected }。
prompt-repeat-refused = 此处不能使用 --{ $name } { $value }：机器人每个提示只显示一个结果，多出的每次运行都会消耗你看不到的任务额度。请改为再次发送提示。
region-mask-required = 局部重绘需要先选择区域：请点击图片上的“🖌️ 选择区域”。
region-private-intro = 在图片上涂抹要修改的区域，然后在编辑器中提交。
