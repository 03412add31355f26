## Vary (Region) editor, a Telegram Mini App

region-title = Vary (Region)
region-hint = Paint over the part of the picture to redo, then say what should be there.
region-image-alt = The picture to edit
region-prompt-label = Prompt
region-tools-label = Tools
region-tool-brush = Brush
region-tool-eraser = Eraser
region-tool-rect = Rectangle
region-tool-lasso = Lasso
region-brush-size = Brush size
region-undo = Undo
region-clear = Clear
region-submit = Submit
region-cancel = Cancel
region-sending = Sending…
region-done = Sent. The new images will appear in the chat.
region-cancelled = Nothing was sent. You can close this page.
region-error-empty = Paint the area to change first.
region-error-auth = Open this editor with its button in Telegram.
region-error-forbidden = Only the person who pressed the button can do this.
region-error-gone = This picture no longer waits for a region.
region-error-failed = Something went wrong. Please try again.
region-open-button = 🖌️ Select the region
region-open-private = 🖌️ Select the region in our private chat
