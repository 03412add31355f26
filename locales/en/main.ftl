## Greeting and help

start-greeting =
    Hi { $name }! I turn your words into pictures.
    Send /imagine followed by a description, for example:
    /imagine a lighthouse on a cliff at dusk, oil painting --ar 3:2
help-text =
    <b>How to use me</b>
    /imagine &lt;prompt&gt; — draw four pictures; then use the buttons:
    U1–U4 upscale one picture, V1–V4 make variations of it, 🔄 draws the prompt again.
    After an upscale you can vary it, zoom out or pan.
    In groups, write /imagine@{ $bot } if other bots are present, or reply to my question.
    /help — this message
simulated-notice = 🧪 This bot runs the built-in simulator: pictures are placeholders drawn locally, not Midjourney.
unknown-command = I don't know that command. Send /help to see what I can do.
private-text-hint = To draw something, send /imagine followed by a description, e.g. /imagine a red fox in the snow
access-denied = Sorry, this bot is not available to you here.

## Asking for a prompt

ask-prompt = What should I draw? Reply to this message with your prompt.
ask-prompt-placeholder = a red fox in the snow, watercolor
empty-prompt = The prompt is empty. Write what you want to see after /imagine, for example: /imagine a red fox in the snow
prompt-too-long = The prompt is { $length } characters long; this image service accepts at most { $limit }.

## The job's message

caption-by = by { $user }
caption-simulated = 🧪 simulated
backend-waiting =
    { $state ->
        [paused] ⏸ The image service is paused: your job waits in its queue until it resumes.
        [unhealthy] ⚠️ The image service is having trouble: your job waits in its queue until it recovers.
       *[other] ⏳ The image service is starting: your job waits in its queue until it is ready.
    }
status-queued = ⏳ Queued
status-queued-position =
    { $position ->
        [one] ⏳ Queued — 1 job ahead
       *[other] ⏳ Queued — { $position } jobs ahead
    }
status-needs-input = ✏️ Waiting for your input
status-running = 🎨 Drawing… { $percent }%
status-animating = 🎞️ Animating… { $percent }%
status-done = ✅ Done
status-failed = ❌ Failed: { $reason }
nothing-charged = Nothing was charged.
image-unavailable = The backend's image could not be fetched.
video-too-large = 🎞️ The video is larger than the { $limit } MB a bot may send on Telegram.
video-unavailable = 🎞️ The video could not be fetched.
video-open = ▶️ Open the video
origin-upscale = Image #{ $index }
origin-crop = Part #{ $index } of the grid, cut out as it is (not upscaled)
origin-variation = Variations of image #{ $index }
origin-reroll = New run
origin-action = { $action }

## Why a job failed

failure-banned = the prompt was rejected by moderation
failure-banned-detail = the prompt was rejected by moderation ({ $detail })
failure-queue-full = the image service's queue is full; try again in a few minutes
failure-timeout = no result after { $minutes } minutes
failure-cancelled = the job was cancelled
failure-lost = the image service lost track of this job
failure-invalid = the image service refused it: { $reason }
failure-unavailable = the image service could not be reached
failure-offline = the image service has no Midjourney account online right now; try again later
failure-remix-off = the image service can't use an edited prompt with this button (its Midjourney account has Remix off); turn Remix off in /settings to run the button as it is
failure-backend = { $reason }
failure-unknown = the image service reported an error
failure-uncertain = the bot restarted while handing this job over; it is unknown whether the image service ran it
failure-interrupted = the bot restarted before the image service took this job; nothing was started
failure-unreadable-result = the image service's picture could not be read; try again
failure-account = { $problem ->
    [balance] the bot's account at the image service has run out of credit; the bot's operator has been told
    [token] the image service does not accept the bot's access key (wrong or expired); the bot's operator has been told
   *[disabled] the bot's account at the image service is disabled; the bot's operator has been told
}

## Buttons

btn-upscale-subtle = Upscale (Subtle)
btn-upscale-creative = Upscale (Creative)
btn-upscale-2x = Upscale (2x)
btn-upscale-4x = Upscale (4x)
btn-crop = ✂️ Part { $index }
btn-redo-upscale-subtle = 🔁 Redo Upscale (Subtle)
btn-redo-upscale-creative = 🔁 Redo Upscale (Creative)
btn-redo-upscale-2x = 🔁 Redo Upscale (2x)
btn-redo-upscale-4x = 🔁 Redo Upscale (4x)
btn-vary-subtle = 🪄 Vary (Subtle)
btn-vary-strong = 🪄 Vary (Strong)
btn-vary-region = 🖌️ Vary (Region)
btn-zoom-out-2x = 🔍 Zoom Out 2x
btn-zoom-out-1-5x = 🔍 Zoom Out 1.5x
btn-custom-zoom = 🔍 Custom Zoom
btn-make-square = ↔️ Make Square
btn-animate-high = 🎞️ Animate (High motion)
btn-animate-low = 🎞️ Animate (Low motion)
btn-pick-clip = 🎞️ Clip { $index }
btn-extend-high = 🎞️ Extend (High motion)
btn-extend-low = 🎞️ Extend (Low motion)
btn-retry = 🔁 Try again

## Answers to button presses

press-started = Started: { $action }
press-not-yours = Only the person who asked can use these buttons.
press-expired = This button is no longer available.
press-unavailable = This button can't be used here.
press-failed = Couldn't start it: { $reason }

## Errors

error-unavailable = The image service is not reachable right now. Please try again in a minute.
error-busy = The image service's queue is full. Please try again in a few minutes.
error-rejected = The image service refused this: { $reason }
error-internal = Something went wrong on our side; it has been logged. Please try again.

## Command menu

cmd-imagine = Draw pictures from a prompt
cmd-help = How to use this bot

## Describe, blend, shorten, prompts to edit

btn-imagine-all = 🎉 Imagine all
btn-show-details = Show details
btn-seed = 🌱 Seed
btn-use-as-is = ✅ Use as is
btn-cancel = ❌ Cancel
btn-blend-portrait = Portrait 2:3
btn-blend-square = Square 1:1
btn-blend-landscape = Landscape 3:2
btn-blend-now = 🎨 Blend now
command-unsupported = The image service this bot uses can't do /{ $command }.
image-required = Send /describe as the caption of a photo, or as a reply to a photo or image file.
image-unreadable = That file is not an image I can read (JPEG, PNG or WebP, please).
image-too-big = That image is too large ({ $size } MB); the limit is { $limit } MB.
picture-unavailable = Telegram did not hand me that picture. Please send it again.
blend-count =
    { $count ->
        [one] /blend needs 2 to 5 images; I got 1.
       *[other] /blend needs 2 to 5 images; I got { $count }.
    }
blend-start = Send me 2 to 5 photos (as an album or one by one, replying to this message in groups), then press “Blend now”.
blend-collecting = { $count } of 5 images received. Send more, or press “Blend now”.
blend-choose-shape = Blend { $count } images: choose the shape.
blend-cancelled = Blend cancelled.
blend-full = That's 5 images already — the most /blend takes. Press “Blend now”.
blend-expired = This blend is no longer open. Start again with /blend.
shorten-empty = Write the prompt to analyse after /shorten, for example: /shorten a majestic ancient castle on a misty hill, golden hour
input-question = Edit the prompt and send it as a reply to this message, or press “✅ Use as is” on the picture above.
input-current = Current prompt:
input-invalid-zoom = Custom Zoom needs --zoom with a value from 1 to 2, for example: a fox in the forest --zoom 1.5
input-not-expected = This prompt is no longer needed.
input-cancelled = Cancelled.
seed-unavailable = The backend could not tell this image's seed.
seed-not-yours = Only the person who asked for this picture can get its seed.
seed-value = 🌱 Seed: <code>{ $seed }</code>
already-upscaled = This picture is already upscaled ↑
already-cropped = This part of the grid was sent already ↑
already-animated = This picture is already animated ↑
already-picked-clip = This clip was sent already ↑
already-extended = This video is already extended ↑
text-describe-title = 🖼 Prompts for your image
text-shorten-title = ✂️ Prompt analysis
origin-prompt-pick = Prompt { $index }
cmd-describe = Get prompts for a picture (send it with this caption)
cmd-blend = Blend 2–5 pictures into one
cmd-shorten = Analyse and shorten a prompt

## Limits, account and admin commands

quota-active = You already have { $limit } jobs running. Wait for one to finish, or stop one with /cancel.
quota-chat-active = This chat already has { $limit } jobs running. Please wait for one to finish.
quota-daily = You've used all { $limit } jobs for today. Your quota resets in { $hours } h { $minutes } min (at 00:00 UTC).
quota-pool = This group has used its shared budget of { $limit } jobs for today. It resets in { $hours } h { $minutes } min (at 00:00 UTC).
me-today = Jobs today: { $used }
me-today-limited = Jobs today: { $used } of { $limit }
me-active = Running now: { $active }
me-active-limited = Running now: { $active } of { $limit }
me-resets = Your daily quota resets in { $hours } h { $minutes } min (at 00:00 UTC).
history-title = Your recent jobs (tap /show_… to bring one back):
history-empty = You have no jobs yet. Try /imagine a red fox in the snow
show-not-ready = That job has no finished result to show yet.
job-not-found = I can't find that job among yours.
cancel-done = Stopped.
cancel-nothing = There is nothing of yours to stop here.
cancel-unsupported = The image service can't stop this job once it has started; it will finish on its own.
cancel-not-yet = This job is still being handed to the image service; send /cancel again in a moment.
cancel-admin-only = Only the image service's administrator can stop jobs there; this one will finish on its own.
admin-only = This command is for the bot's admins.
admin-usage = Use it with a Telegram id (negative for a chat), as a reply to the user's message, or in the group itself.
admin-allowed = Allowed { $subject } { $id }.
admin-banned = Banned { $subject } { $id }.
admin-cleared = Removed the rule for { $subject } { $id }.
admin-no-rule = There was no rule for { $subject } { $id }.
admin-mode-open = Access: open to everyone (except banned users and chats). /access closed allows only listed ones.
admin-mode-closed = Access: only allowed users and chats (and admins). /access open lets everyone in.
admin-rule = { $rule }: { $subject } { $id }
cmd-history = Your recent jobs
cmd-me = Your usage and limits
cmd-cancel = Stop your running job
cmd-settings = Your default image settings
invalid-parameter = The parameter --{ $name } { $value } is not valid; it takes: { $expected }.
prompt-repeat-refused = --{ $name } { $value } is not available here: the bot shows one result per prompt, so every extra run would use up jobs you never see. Send the prompt again instead.
region-mask-required = Vary (Region) needs the area to change: press “🖌️ Select the region” on the picture.
region-private-intro = Paint the area to change on your picture, then send it from the editor.
