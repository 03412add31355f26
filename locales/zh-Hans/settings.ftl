## /settings panel

settings-title-user = ⚙️ 我的设置
settings-title-chat = ⚙️ 本群默认设置
settings-chat-explained = 适用于本群所有个人设置为“默认”的成员。
settings-group-note = 在本群中，您设为“默认”的项目将采用本群的默认设置。
settings-hint = 点击选项即可选择；再次点击可恢复默认。
settings-line-version = 版本：{ $value }
settings-line-aspect = 宽高比：{ $value }
settings-line-stylize = 风格化：{ $value }
settings-line-raw = Raw 风格：{ $value }
settings-line-speed = 速度：{ $value }
settings-line-remix = Remix 模式：{ $value }
settings-line-language = 语言：{ $value }
settings-line-buttons = 任务按钮：{ $value }
settings-line-pool = 每日共享额度：{ $value }
settings-value-default = 默认
settings-value-on = 开
settings-value-off = 关
settings-value-telegram = 跟随 Telegram
settings-value-pool = 除管理员外所有人每天共用 { $count } 个任务
settings-buttons-requester = 仅限发起人
settings-buttons-everyone = 群内所有人
settings-speed-fast = ⚡ 快速
settings-speed-relax = 🐢 慢速
settings-speed-turbo = 🚀 极速
settings-language-en = 🇬🇧 English
settings-language-ru = 🇷🇺 Русский
settings-language-zh-Hans = 🇨🇳 简体中文
settings-btn-raw = 📷 Raw 风格
settings-btn-remix = 🎛 Remix 模式
settings-btn-reset = ♻️ 重置
settings-btn-mine = 👤 我的设置
settings-btn-chat = 👥 本群默认
settings-btn-buttons-requester = 🔒 按钮：仅发起人
settings-btn-buttons-everyone = 🔓 按钮：所有人
settings-btn-pool-off = 🎟 不设额度
settings-saved = 已保存
settings-not-yours = 这是别人的设置面板。发送 /settings 打开您自己的设置。
settings-admins-only = 只有群管理员可以修改本群的默认设置。

## /prefer

prefer-usage =
    /prefer 用法：
    /prefer suffix <文本> — 在每个提示词末尾添加文本或参数（不填文本则移除）
    /prefer option set <名称> <参数> — 提示词中的 --名称 将替换为这些参数（不填参数则删除）
    /prefer option list — 查看您的参数组
prefer-suffix-set =
    ✅ 后缀已保存：<code>{ $suffix }</code>
    它会添加到您每个提示词的末尾。
prefer-suffix-cleared = ✅ 后缀已移除。
prefer-option-saved =
    ✅ 参数组 <code>--{ $name }</code> 已保存：<code>{ $params }</code>
    在提示词中写 --{ $name } 即可使用。
prefer-option-deleted = ✅ 参数组 <code>--{ $name }</code> 已删除。
prefer-option-list = 您的参数组：
prefer-option-line = <code>--{ $name }</code> → <code>{ $params }</code>
prefer-option-list-empty = 您还没有参数组。创建方法：/prefer option set &lt;名称&gt; &lt;参数&gt;
prefer-option-name-invalid = “{ $name }”不能作为参数组名称：最多 24 个拉丁字母、数字、- 或 _，以字母开头，且不能是 ar、v 等 Midjourney 参数。
prefer-option-missing = 您没有名为 --{ $name } 的参数组。
prefer-option-sets-full = 您已有 { $limit } 个参数组，已达上限。请先删除一个：/prefer option set <名称>
prefer-option-too-long = 参数组的参数最多 { $limit } 个字符。
prefer-suffix-too-long = 后缀最多 { $limit } 个字符。
