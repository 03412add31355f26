## 局部重绘编辑器（Telegram 小程序）

region-title = 局部重绘
region-hint = 涂抹需要重画的部分，再写下那里应该出现什么。
region-image-alt = 要编辑的图片
region-prompt-label = 提示词
region-tools-label = 工具
region-tool-brush = 画笔
region-tool-eraser = 橡皮擦
region-tool-rect = 矩形
region-tool-lasso = 套索
region-brush-size = 画笔大小
region-undo = 撤销
region-clear = 清除
region-submit = 提交
region-cancel = 取消
region-sending = 正在发送…
region-done = 已发送。新图片会出现在聊天中。
region-cancelled = 没有发送任何内容。可以关闭此页面。
region-error-empty = 请先涂抹要修改的区域。
region-error-auth = 请通过 Telegram 中的按钮打开此编辑器。
region-error-forbidden = 只有按下按钮的人可以这样做。
region-error-gone = 这张图片已不再等待选择区域。
region-error-failed = 出了点问题，请重试。
region-open-button = 🖌️ 选择区域
region-open-private = 🖌️ 在私聊中选择区域
